"""A conversion killed (SIGKILL) at each fault-injection point of the writer leaves a dataset
that the same conversion resumes to the weights of an uninterrupted run; readers never see a
half-written row in between.

Each killed run is a child process (INRZOO_FAULT names the point); the resume runs here, in
this process, with the same config (executor=local: one thread count, so the same weights).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from inrzoo.pipeline import convert, load_convert_config
from inrzoo.store import STATUS_CODES, open_weights, verify
from inrzoo.store.faults import POINTS

pytestmark = pytest.mark.slow

DATA = Path(__file__).resolve().parents[1] / "data" / "collections"
FIRST = ["Basics_LetterBlock.stl", "Old_example011.stl"]
LATER = ["z_nut_M8.stl"]  # sorts after the first ones: a grown listing appends it
BUDGET = ["preset=davies", "output.chunk_rows=1", "sampler.options.n=2048", "sampler.options.pool_size=10000",
          "fit.max_epochs=2", "fit.batch_size=512", "fit.escalation.ladder=[]", "eval.surface_points=1000",
          "eval.chamfer=none", "runtime.executor=local", "tracking.enabled=false"]  # the writer is under test
KILLED = "import sys\nfrom inrzoo.pipeline import convert, load_convert_config\nconvert(load_convert_config(None, sys.argv[1:]))\n"


def folder(root: Path, grown: bool) -> Path:
    (root / "part").mkdir(parents=True, exist_ok=True)
    for name in FIRST + (LATER if grown else []):
        shutil.copy(DATA / name.removeprefix("z_"), root / "part" / name)
    (root / "part" / "broken.stl").write_bytes(b"solid broken\n not an stl")
    return root


def overrides(source: Path, out: Path) -> list[str]:
    return [f"source.uri={source}", f"output.uri={out}", *BUDGET]


def run_killed(source: Path, out: Path, point: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "INRZOO_FAULT": point}
    return subprocess.run([sys.executable, "-c", KILLED, *overrides(source, out)], env=env, capture_output=True,
                          text=True, timeout=300)


def stored(out: Path) -> tuple[dict, dict[str, np.ndarray]]:
    ds = open_weights(str(out), status=None)
    status = ds.columns["status"]
    counts = {name: int(np.sum(status == code)) for name, code in STATUS_CODES.items()}
    return counts, {name: np.asarray(arr[:]) for name, arr in ds.groups[0].arrays.items()}


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    """Uninterrupted runs over the first listing and over the grown one."""
    root = tmp_path_factory.mktemp("crash-ref")
    result = {}
    for grown in (False, True):
        source = folder(root / f"src{int(grown)}", grown)
        convert(load_convert_config(None, overrides(source, root / f"ref{int(grown)}.zarr")))
        result[grown] = stored(root / f"ref{int(grown)}.zarr")
    return result


@pytest.mark.parametrize("point", [f"{p}@2" if p.startswith("write") else p for p in POINTS])
def test_conversion_killed_at_a_fault_point_resumes_to_the_same_weights(references, tmp_path, point):
    source, out = folder(tmp_path / "src", grown=False), tmp_path / "out.zarr"
    if point.startswith("append"):  # a finished conversion whose collection then grew
        convert(load_convert_config(None, overrides(source, out)))
        folder(source, grown=True)
    killed = run_killed(source, out, point)
    assert killed.returncode == -9, f"{point} was not reached:\n{killed.stderr[-3000:]}"
    if (out / "zarr.json").exists() and not (out / ".inrzoo-creating").exists():
        ds = open_weights(str(out))  # what a reader sees meanwhile: complete ok rows only
        assert all(r.params is not None for r in ds[:])
    convert(load_convert_config(None, overrides(source, out)))
    counts, params = stored(out)
    expected_counts, expected = references[point.startswith("append")]
    assert counts == expected_counts
    for name, value in expected.items():
        np.testing.assert_array_equal(params[name], value, err_msg=f"{point}: {name}")
    assert verify(str(out)).ok


def runs_of(db: Path, out: Path) -> list:
    import mlflow

    if not db.exists():
        return []
    mlflow.set_tracking_uri(f"sqlite:///{db}")
    experiment = mlflow.get_experiment_by_name("crash")
    if experiment is None:
        return []
    return mlflow.MlflowClient().search_runs([experiment.experiment_id], filter_string=f"tags.`inrzoo.dataset` = '{out}'")


def test_sigterm_marks_the_run_killed_and_a_resume_closes_runs_left_running(tmp_path):
    import signal
    import time

    source, db = folder(tmp_path / "src", grown=False), tmp_path / "mlflow.db"

    def tracked(out: Path) -> list[str]:
        return [*[o for o in overrides(source, out) if not o.startswith("tracking.")],
                f"tracking.tracking_uri=sqlite:///{db}", "tracking.experiment=crash"]

    out = tmp_path / "stopped.zarr"
    slow = subprocess.Popen([sys.executable, "-c", KILLED, *tracked(out), "fit.max_epochs=100000",
                             "fit.early_stopping.enabled=false"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, "INRZOO_STATE_DIR": str(tmp_path)})
    deadline = time.monotonic() + 240
    while not (out / "zarr.json").exists() or not runs_of(db, out):
        assert slow.poll() is None and time.monotonic() < deadline, slow.stdout.read() if slow.poll() is not None else "slow"
        time.sleep(0.5)
    slow.send_signal(signal.SIGTERM)
    assert slow.wait(timeout=120) == 143, slow.stdout.read()
    assert [r.info.status for r in runs_of(db, out)] == ["KILLED"]

    out = tmp_path / "killed.zarr"
    killed = subprocess.run([sys.executable, "-c", KILLED, *tracked(out)],
                            env={**os.environ, "INRZOO_FAULT": "write:status"}, capture_output=True, text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert [r.info.status for r in runs_of(db, out)] == ["RUNNING"]
    report = convert(load_convert_config(None, tracked(out)))
    runs = {r.info.run_id: r for r in runs_of(db, out)}
    assert runs[report.mlflow_run_id].info.status == "FINISHED"
    closed = [r for r in runs.values() if r.data.tags.get("inrzoo.closed_by") == report.mlflow_run_id]
    assert len(closed) == 1 and closed[0].info.status == "KILLED" and report.pending == 0
