"""The store on a real S3 service (SeaweedFS): four writer processes at once, then lazy reads."""

from __future__ import annotations

import uuid

import pytest
import torch

import inrzoo
from inrzoo.store import StoreError
from store.concurrent_writers import run_four_writers
from store.weights_helpers import TOY, fill, listing, params_for

pytestmark = pytest.mark.integration


def test_four_processes_write_one_dataset_on_s3(s3_options):
    uri = f"s3://{s3_options['bucket']}/{uuid.uuid4().hex}/ds.zarr"
    run_four_writers(uri, s3_options["storage_options"], rows=120, chunk_rows=8)
    ds = inrzoo.open_weights(uri, s3_options["storage_options"], split="test")
    assert len(ds) == 30 and "## How to load it" in ds.location.read_text("README.md")


def test_s3_reads_filters_and_batches(s3_options):
    uri = f"s3://{s3_options['bucket']}/{uuid.uuid4().hex}.zarr"
    options = s3_options["storage_options"]
    writer = inrzoo.create_weights(uri, listing(20), [TOY], chunk_rows=8, dtype="float16", storage_options=options)
    fill(writer, units=writer.work_units()[:2], failed={4})
    ds = inrzoo.open_weights(uri, options, label="chair")
    assert list(ds.rows) == [0, 3, 6, 9, 12, 15]
    assert torch.allclose(ds[1].params["w"], torch.from_numpy(params_for(TOY, 3)["w"]), rtol=1e-3)
    assert list(inrzoo.open_weights(uri, options, status="pending").rows) == list(range(16, 20))
    batches = list(inrzoo.open_weights(uri, options).loader(batch_size=5))
    assert [len(b["row"]) for b in batches] == [5, 5, 5] and batches[0]["params"]["w"].dtype == torch.float32


def test_s3_option_typo_is_an_error(s3_options):
    options = {**s3_options["storage_options"], "endpoint": "http://127.0.0.1:1"}
    with pytest.raises(StoreError, match=r"\['endpoint'\] are not used by the 's3' filesystem"):
        inrzoo.open_weights(f"s3://{s3_options['bucket']}/x.zarr", options)
