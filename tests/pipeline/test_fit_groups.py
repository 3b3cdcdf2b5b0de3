"""A unit's fit batches give the same weights however many of them run side by side, and each
fitted row gets its quality check (Chamfer / F-score of the zero level set)."""

from __future__ import annotations

import numpy as np
import pytest

from inrzoo.pipeline import load_convert_config
from inrzoo.pipeline.config import resolve
from inrzoo.pipeline.fit_stage import fit_unit, worker_cores
from inrzoo.pipeline.prepare import PreparedShape
from inrzoo.sampling import Samples


def sphere_shape(row: int) -> PreparedShape:
    rng = np.random.default_rng(row)
    points = rng.uniform(-1, 1, (4096, 3)).astype(np.float32)
    radius = 0.3 + 0.05 * row
    direction = rng.normal(size=(2000, 3))
    surface = (radius * direction / np.linalg.norm(direction, axis=1, keepdims=True)).astype(np.float32)
    samples = Samples(points, np.linalg.norm(points, axis=1) - radius, "sdf")
    return PreparedShape(row=row, id=f"s{row}", status="ok", samples=samples, surface=surface,
                         transform={"center": [0.0, 0.0, 0.0], "scale": 1.0}, sha256="0" * 64, seconds=0.5,
                         stream_seed=100 + row)


@pytest.fixture(scope="module")
def conv():
    import torch

    torch.set_num_threads(1)  # as FitWorker does
    return resolve(load_convert_config(None, [
        "preset=davies", "fit_group_size=2", "fit.max_epochs=3", "fit.batch_size=512", "fit.escalation.ladder=[]",
        "fit.optimizer.lr=0.001", "eval.chamfer_points=2000", "eval.mesh_resolution=64"]))


def test_batches_side_by_side_give_the_weights_of_batches_in_turn(conv):
    prepared = [sphere_shape(row) for row in range(5)]
    prepared.insert(2, PreparedShape(row=9, id="bad", status="failed", error="bad.stl: unreadable"))
    runs = {threads: fit_unit(prepared, conv, threads) for threads in (1, 2, 3)}
    for groups in (2, 3):
        assert [r.row for r in runs[groups]] == [r.row for r in runs[1]]
        for a, b in zip(runs[1], runs[groups]):
            assert a.status == b.status
            if a.status == "ok":
                for name in a.params:
                    np.testing.assert_array_equal(a.params[name].numpy(), b.params[name].numpy())
                assert a.metrics["surface_error"] == b.metrics["surface_error"]
    ok = [r for r in runs[1] if r.status == "ok"]
    assert len(ok) == 5 and all(0.0 <= r.metrics["fscore"] <= 1.0 for r in ok)
    assert all(r.metrics["seconds"] == pytest.approx(r.metrics["seconds_prepare"] + r.metrics["seconds_fit"]
                                                     + r.metrics["seconds_check"]) for r in ok)


def test_quality_check_can_be_switched_off(conv):
    import dataclasses

    off = dataclasses.replace(conv, config=dataclasses.replace(
        conv.config, eval=dataclasses.replace(conv.config.eval, chamfer="none")))
    (row,) = fit_unit([sphere_shape(0)], off)
    assert "fscore" not in row.metrics and "chamfer" not in row.metrics


def test_worker_cores_outside_ray_is_this_process_share(conv):
    import os

    assert worker_cores(conv.config.runtime) == len(os.sched_getaffinity(0))
