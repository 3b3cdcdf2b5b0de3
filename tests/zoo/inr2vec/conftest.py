"""Tiny inr2vec configurations and synthetic INR sets shared by the inr2vec tests."""

from __future__ import annotations

import pytest
import torch

from inr2vec_helpers import siren_families, sphere_inrs, tiny_config


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models on a shared 2-core machine: with 2 intra-op threads each small step waits on
    a busy core (about 100x slower here), so these tests run single-threaded."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(name="tiny_config")
def tiny_config_fixture():
    return tiny_config


@pytest.fixture(name="siren_families")
def siren_families_fixture():
    return siren_families


@pytest.fixture(name="sphere_inrs")
def sphere_inrs_fixture():
    return sphere_inrs
