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


@pytest.mark.slow
def test_loader_worker_processes_reopen_the_dataset(tmp_path):
    import torch

    import inrzoo
    from store.weights_helpers import TOY, fill, listing, params_for

    uri = str(tmp_path / "ds.zarr")
    fill(inrzoo.create_weights(uri, listing(30), [TOY], chunk_rows=8))
    ds = inrzoo.open_weights(uri, split="train")
    loader = ds.loader(batch_size=4, num_workers=1, shuffle=True, flat=True)
    rows = []
    for batch in loader:
        assert batch["flat"].shape == (len(batch["row"]), 16)
        for k, row in enumerate(batch["row"].tolist()):
            assert torch.equal(batch["params"]["w"][k], torch.from_numpy(params_for(TOY, row)["w"]))
            assert batch["label"][k] == ds.columns["label"][row]
        rows += batch["row"].tolist()
    assert sorted(rows) == list(ds.rows)
