"""Fitting tests run on tiny tensors: one torch thread avoids OpenMP contention on 2 cores."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
