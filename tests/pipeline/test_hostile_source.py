"""A conversion over a folder nobody curated: each bad file is one failed row with its reason,
nothing outside the root is read, and the good shapes are converted."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from inrzoo.pipeline import convert, load_convert_config
from inrzoo.store import open_weights

DATA = Path(__file__).resolve().parents[1] / "data" / "collections"
BUDGET = ["preset=davies", "output.chunk_rows=4", "sampler.options.n=2048", "sampler.options.pool_size=10000",
          "fit.max_epochs=1", "fit.batch_size=512", "fit.escalation.ladder=[]", "eval.surface_points=1000",
          "eval.chamfer=none", "runtime.executor=local", "tracking.enabled=false"]


def test_bad_files_become_failed_rows_with_their_reasons(tmp_path):
    root, outside = tmp_path / "src", tmp_path / "outside"
    (root / "a").mkdir(parents=True)
    outside.mkdir()
    shutil.copy(DATA / "Old_example011.stl", root / "a" / "good.stl")
    shutil.copy(DATA / "Old_example011.stl", outside / "private.stl")
    os.symlink(outside / "private.stl", root / "a" / "link_out.stl")
    (root / "a" / "empty.ply").write_bytes(b"")
    os.mkfifo(root / "a" / "pipe.stl")
    np.savetxt(root / "a" / "scan.xyz", np.random.default_rng(0).uniform(-1, 1, (30, 3)), fmt="%.3f")
    (root / "a" / "huge.stl").write_bytes(b"\0" * 2048)
    out = tmp_path / "ds.zarr"
    report = convert(load_convert_config(None, [f"source.uri={root}", f"output.uri={out}", "source.max_file_bytes=1900",
                                               *BUDGET]))
    assert (report.ok, report.failed, report.pending) == (1, 5, 0)
    errors = {r.id: r.error for r in open_weights(str(out), status="failed")[:]}
    assert "outside the collection root" in errors["folder/a/link_out.stl"]
    assert "not a PLY file" in errors["folder/a/empty.ply"]
    assert "not a regular file" in errors["folder/a/pipe.stl"]
    assert "exceed source.max_file_bytes=1900" in errors["folder/a/huge.stl"]
    assert "presets that fit a pointcloud: inr2vec, lightsal, udf" in errors["folder/a/scan.xyz"]
    assert all(r.sha256 == "" for r in open_weights(str(out), status="failed")[:])  # nothing unwanted was read
