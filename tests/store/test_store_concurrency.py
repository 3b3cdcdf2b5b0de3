"""Many writers on one dataset: four processes on a local store (the S3 variant lives in
test_store_s3.py, marked integration)."""

from __future__ import annotations

import pytest

from store.concurrent_writers import run_four_writers


@pytest.mark.slow
def test_four_processes_write_one_local_dataset(tmp_path):
    run_four_writers((tmp_path / "ds.zarr").as_uri(), {})


@pytest.mark.slow
def test_four_processes_write_one_sharded_dataset(tmp_path):
    run_four_writers(str(tmp_path / "sharded.zarr"), {}, rows=150, chunk_rows=4, shard_rows=16)
