"""Records and datasets print as one short line, never as their weights."""

from __future__ import annotations

import inrzoo
from field_helpers import lumpy_dataset
from inrzoo.store import RowResult


def test_a_record_prints_as_a_summary(tmp_path):
    ds = lumpy_dataset(str(tmp_path / "spheres.zarr"))
    text = repr(ds[1])
    assert text == ("Record(row=1, id='sphere1', status='ok', label='b', split='train', arch=relu_mlp-8x32, "
                    "params=18 tensors, 7,553 values float32, surface_error=0.002)")
    assert "\n" not in repr(ds) and len(repr(ds)) < 200
    bare = ds.get_records([0], with_params=False)[0]
    assert "params=none" in repr(bare)


def test_a_failed_row_result_prints_its_error_shortened():
    text = repr(RowResult(row=4, status="failed", error="cannot parse " + "x" * 300))
    assert text.startswith("RowResult(row=4, status='failed', params=none, error='cannot parse x")
    assert len(text) < 160 and text.endswith("...')")
    assert inrzoo  # the package is importable without touching weights
