"""The S3 object store through real clients: s3fs, zarr v3 and the aws CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.integration


def test_zarr_group_round_trips_through_the_bucket_and_aws_cli_lists_it(object_store):
    import s3fs
    import zarr

    prefix = f"it-{uuid.uuid4().hex[:8]}"
    uri = object_store.uri(prefix, "grid.zarr")
    data = np.random.default_rng(0).normal(size=(10, 7)).astype(np.float32)

    group = zarr.open_group(uri, mode="w", zarr_format=3, storage_options=object_store.storage_options)
    weights = group.create_array("weights", shape=data.shape, chunks=(4, 7), dtype="float32")
    weights[:] = data
    group.attrs["kind"] = "integration"

    reopened = zarr.open_group(uri, mode="r", zarr_format=3, storage_options=object_store.storage_options)
    np.testing.assert_array_equal(reopened["weights"][:], data)
    assert reopened.attrs["kind"] == "integration"
    assert reopened["weights"].chunks == (4, 7)

    fs = s3fs.S3FileSystem(**object_store.storage_options)
    keys = {key.split("grid.zarr/", 1)[1] for key in fs.find(uri)}
    assert {"zarr.json", "weights/zarr.json", "weights/c/0/0", "weights/c/1/0", "weights/c/2/0"} <= keys

    aws = Path(sys.executable).parent / "aws"
    listing = subprocess.run(
        [str(aws), "--endpoint-url", object_store.endpoint_url, "s3", "ls", "--recursive",
         f"s3://{object_store.bucket}/{prefix}/"],
        env={**os.environ, **object_store.env}, capture_output=True, text=True, timeout=120,
    )
    assert listing.returncode == 0, listing.stderr
    assert f"{prefix}/grid.zarr/weights/c/2/0" in listing.stdout


def test_wrong_secret_is_refused(object_store):
    import s3fs

    options = {**object_store.storage_options, "secret": "not-the-secret"}
    fs = s3fs.S3FileSystem(skip_instance_cache=True, **options)
    with pytest.raises(PermissionError):
        fs.ls(object_store.bucket, refresh=True)
