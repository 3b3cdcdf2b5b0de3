"""Format versions (1.0 datasets stay readable and resumable), the writer's NaN/inf policy, and
the dataset states a killed writer can leave (creation, unit writes, append), each read
correctly and completed by the same writer calls."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import inrzoo
from inrzoo.store import IncompleteDatasetError, RowResult, StoreError, WeightWriter, verify
from inrzoo.store.faults import POINTS
from store.weights_helpers import TOY, fill, listing, ok_result, params_for

OLD = Path(__file__).resolve().parents[2] / "tests" / "data" / "store" / "format-1.0"
TESTS = Path(__file__).resolve().parents[1]


def test_a_format_1_0_dataset_reads_verifies_and_resumes(tmp_path):
    path = shutil.copytree(OLD / "reference_bf16.zarr", tmp_path / "old.zarr")
    vectors = json.loads((OLD / "reference_bf16.vectors.json").read_text())
    ds = inrzoo.open_weights(str(path))
    assert ds.attrs["format_version"] == "1.0" and "param_crc32" not in ds.columns
    for item in vectors["rows"]:
        got = ds.evaluate([list(ds.rows).index(item["row"])], np.asarray(item["points"], dtype=np.float32))[0]
        np.testing.assert_allclose(got.numpy(), item["values"], rtol=1e-4, atol=1e-5)
    report = verify(str(path))
    assert report.ok and report.ok_rows_checked == len(vectors["rows"]), report.problems
    writer = WeightWriter.open(str(path))  # an old conversion resumed: it goes on writing 1.0
    new = writer.append([{"id": "late", "label": "a"}])
    spec = ds.arch_spec(0)
    writer.write(range(4, 7), [RowResult(row=new.start, params=ds[0].params, arch=spec)])
    again = inrzoo.open_weights(str(path))
    assert again.attrs["format_version"] == "1.0" and len(again) == len(ds) + 1
    assert torch.equal(again[len(ds)].params["output.weight"], ds[0].params["output.weight"])


def test_an_ok_row_with_nan_or_overflow_is_stored_as_failed(tmp_path):
    uri = str(tmp_path / "nan.zarr")
    writer = inrzoo.create_weights(uri, listing(4), [TOY], chunk_rows=4, dtype="float16")
    nan = ok_result(TOY, 1)
    nan.params = {**nan.params, "b": np.array([0, np.nan, 0, 0], dtype=np.float32)}
    huge = ok_result(TOY, 2)
    huge.params = {**huge.params, "w": np.full((4, 3), 1e6, dtype=np.float32)}  # > float16's 65504
    writer.write(range(0, 4), [ok_result(TOY, 0), nan, huge, ok_result(TOY, 3)])
    ds = inrzoo.open_weights(uri, status=None)
    assert [r.status for r in ds[:]] == ["ok", "failed", "failed", "ok"]
    assert "NaN or infinite" in ds[1].error and "overflows float16" in ds[2].error and ds[1].params is None
    assert verify(uri).ok


def test_record_strings_are_bounded_and_valid_utf8(tmp_path):
    uri = str(tmp_path / "text.zarr")
    items = listing(2)
    items[0]["uri"] = "file:///data/caf\udce9.obj"  # a file name that is not UTF-8 (surrogate escape)
    writer = inrzoo.create_weights(uri, items, [TOY], chunk_rows=4)
    writer.write(range(0, 2), [RowResult(row=0, status="failed", error="x" * 100_000), ok_result(TOY, 1)])
    ds = inrzoo.open_weights(uri, status=None)
    assert ds[0].source_uri == "file:///data/caf\\xe9.obj"
    assert len(ds[0].error) <= 4096 and "characters cut" in ds[0].error
    with pytest.raises(ValueError, match="duplicate id"):
        inrzoo.create_weights(str(tmp_path / "dup.zarr"), listing(2) + listing(1), [TOY])
    with pytest.raises(ValueError, match="longer than the format"):
        inrzoo.create_weights(str(tmp_path / "long.zarr"), [{"id": "x" * 70_000}], [TOY])


def test_create_refuses_a_folder_with_other_content(tmp_path):
    (tmp_path / "meshes").mkdir()
    (tmp_path / "meshes" / "cube.stl").write_text("solid cube")
    with pytest.raises(StoreError, match="not empty and holds no dataset"):
        inrzoo.create_weights(str(tmp_path / "meshes"), listing(2), [TOY])
    assert (tmp_path / "meshes" / "cube.stl").exists()


KILLED = r"""
import os, sys
from inrzoo.store import WeightWriter, create_weights
from store.weights_helpers import TOY, fill, listing
uri, step = sys.argv[1], sys.argv[2]
if step == "create":
    create_weights(uri, listing(10), [TOY], chunk_rows=4)
elif step == "write":
    fill(WeightWriter.open(uri), units=[range(4, 8)])
elif step == "append":
    WeightWriter.open(uri).append(listing(3, start=10))
elif step == "finalize":
    WeightWriter.open(uri).finalize()
"""


def run_until_killed(uri: str, step: str, point: str) -> int:
    env = {**os.environ, "INRZOO_FAULT": point, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", KILLED, uri, step], env=env, capture_output=True, text=True, timeout=120)
    return done.returncode


def complete(uri: str, step: str) -> None:
    """What the same conversion does when it is run again after the kill."""
    if step == "create":
        try:
            writer = WeightWriter.open(uri)
        except IncompleteDatasetError:
            writer = inrzoo.create_weights(uri, listing(10), [TOY], chunk_rows=4)
        fill(writer)
        return
    writer = WeightWriter.open(uri)
    if step == "append":
        if writer.attrs["appending"]:  # the interrupted append is redone first
            writer.append(listing(3, start=10))
        elif writer.num_rows == 10:
            writer.append(listing(3, start=10))
    fill(writer)
    writer.finalize()


@pytest.mark.slow  # one writer process per kill point
@pytest.mark.parametrize("step,point", [(p.split(":")[0], p) for p in POINTS])
def test_a_writer_killed_at_each_point_leaves_a_dataset_that_completes(tmp_path, step, point):
    uri = str(tmp_path / "crash.zarr")
    if step != "create":
        fill(inrzoo.create_weights(uri, listing(10), [TOY], chunk_rows=4), units=[range(0, 4)])
    assert run_until_killed(uri, step, point) == -9, f"{point} was not reached"
    if step != "create":  # readers see only complete rows in the meantime
        ds = inrzoo.open_weights(uri, status=None)
        for rec in ds[:]:
            if rec.status == "ok":
                assert torch.equal(rec.params["w"], torch.from_numpy(params_for(TOY, rec.row)["w"]))
    complete(uri, step)
    ds = inrzoo.open_weights(uri)
    assert len(ds) == (13 if step == "append" else 10)
    for rec in ds:
        assert torch.equal(rec.params["w"], torch.from_numpy(params_for(TOY, rec.row)["w"]))
    assert verify(uri).ok, verify(uri).problems
