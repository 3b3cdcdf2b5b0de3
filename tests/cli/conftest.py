"""Fixtures of the CLI tests."""

from __future__ import annotations

import pytest
import torch

from field_helpers import lumpy_dataset


@pytest.fixture
def dataset(tmp_path):
    """A finalized dataset of three lumpy spheres (ids sphere0..2, labels b, a, b)."""
    torch.set_num_threads(1)
    uri = str(tmp_path / "spheres.zarr")
    lumpy_dataset(uri)
    return uri
