"""`ray job submit` of jobs/convert.py against the local services: meshes read from the object
store, the dataset written there, the run logged to the MLflow server. Interrupted jobs (stopped,
a worker killed, the object store down) end, after resubmission, with the weights of an
uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import mlflow
import numpy as np
import pytest

from inrzoo.store import STATUS_CODES, open_weights

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "collections"
RAY = str(Path(sys.executable).parent / "ray")
MESHES = {"part": ["nut_M8.stl", "Old_example011.stl", "Relay_SPDT_Omron_G6E.ply"],
          "block": ["Basics_LetterBlock.stl", "Old_example014.stl", "Old_example003.stl"]}
# The davies method on a budget of seconds; one shape per unit so that a job can stop half way
# (the Chamfer check stays on, on fewer points: it is the product's path, and it keeps each shape
# about two seconds long).
BUDGET = ["output.chunk_rows=1", "sampler.options.n=8192", "sampler.options.pool_size=40000", "fit.max_epochs=30",
          "fit.batch_size=512", "fit.escalation.ladder=[]", "eval.surface_points=2000", "eval.chamfer_points=5000",
          "eval.mesh_resolution=128"]


class Jobs:
    def __init__(self, ray_head, object_store, mlflow_server):
        self.ray_head, self.object_store, self.mlflow_server = ray_head, object_store, mlflow_server
        self.env = {**os.environ, **ray_head.env}
        self.job_env = {k: v for k, v in object_store.env.items() if k.startswith("AWS_")}
        self.job_env["MLFLOW_TRACKING_URI"] = mlflow_server.tracking_uri

    def cli(self, command: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        # --address before the arguments: everything after `--` belongs to the entrypoint.
        return subprocess.run([RAY, "job", command, "--address", self.ray_head.address, *args], env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def submit(self, source: str, out: str, *extra: str, env: dict[str, str] | None = None) -> str:
        job_id = f"convert_{uuid.uuid4().hex[:8]}"
        env_vars = {**self.job_env, **(env or {})}
        done = self.cli("submit", "--no-wait", "--submission-id", job_id, "--working-dir", str(REPO / "jobs"),
                        "--runtime-env-json", json.dumps({"env_vars": env_vars}), "--",
                        "python", "convert.py", "--config", "configs/davies.yaml", f"source.uri={source}",
                        f"output.uri={out}", "tracking.experiment=it-convert", *BUDGET, *extra)
        assert done.returncode == 0, done.stderr
        return job_id

    def wait(self, job_id: str, timeout: float = 420) -> str:
        from ray.job_submission import JobSubmissionClient

        client = JobSubmissionClient(self.ray_head.address)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = str(client.get_job_status(job_id).value)
            if status in ("SUCCEEDED", "FAILED", "STOPPED"):
                return status
            time.sleep(1)
        raise TimeoutError(f"job {job_id} still running after {timeout}s")

    def logs(self, job_id: str) -> str:
        return self.cli("logs", job_id).stdout

    def run(self, source: str, out: str, *extra: str) -> str:
        job_id = self.submit(source, out, *extra)
        status = self.wait(job_id)
        assert status == "SUCCEEDED", self.logs(job_id)
        return job_id

    def status_counts(self, out: str) -> dict[str, int]:
        try:
            status = open_weights(out, self.object_store.storage_options, status=None).columns["status"]
        except Exception:  # not created yet
            return {}
        return {name: int(np.sum(status == code)) for name, code in STATUS_CODES.items()}

    def wait_for_rows(self, out: str, ok: int, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while self.status_counts(out).get("ok", 0) < ok:
            assert time.monotonic() < deadline, f"{out}: fewer than {ok} rows after {timeout}s"
            time.sleep(0.5)

    def params(self, out: str) -> dict[str, np.ndarray]:
        ds = open_weights(out, self.object_store.storage_options, status=None)
        return {name: np.asarray(arr[:]) for name, arr in ds.groups[0].arrays.items()}


def fitting_actor_pids(ray_head) -> list[int]:
    """PIDs of this cluster's live fitting actors, asked of its own head (a search of /proc by
    name would also find, and kill, another cluster's actors on the same machine)."""
    from ray.util.state import list_actors

    actors = list_actors(address=ray_head.address, filters=[("state", "=", "ALIVE")], timeout=30)
    return [actor.pid for actor in actors if "FitWorker" in actor.class_name]


def assert_same_weights(jobs, out, reference_params):
    counts = jobs.status_counts(out)
    assert counts == {"pending": 0, "ok": 6, "failed": 1, "rejected": 0}, counts
    params = jobs.params(out)
    for name, value in reference_params.items():
        np.testing.assert_array_equal(params[name], value, err_msg=name)


def test_submitted_conversion_writes_to_the_store_and_logs_to_mlflow(jobs, reference, object_store, mlflow_server):
    out, job_id, _ = reference
    logs = jobs.logs(job_id)
    assert "shapes this run" in logs and "failed row" in logs and "broken.stl" in logs
    ds = open_weights(out, object_store.storage_options, status=None)
    failed = [r for r in ds[:] if r.status == "failed"]
    assert len(failed) == 1 and "broken.stl" in failed[0].error
    mlflow.set_tracking_uri(mlflow_server.tracking_uri)
    runs = mlflow.search_runs(experiment_names=["it-convert"], filter_string=f"tags.`inrzoo.dataset` = '{out}'",
                              output_format="list")
    assert len(runs) == 1 and runs[0].data.metrics["shapes_ok"] == 6
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(runs[0].info.run_id)}
    assert {"surface_error_histogram.png", "README.md"} <= artifacts


def test_stopped_job_resubmitted_ends_with_the_uninterrupted_weights(jobs, reference, s3_meshes):
    out = s3_meshes.replace("/meshes", "/stopped.zarr")
    job_id = jobs.submit(s3_meshes, out)
    jobs.wait_for_rows(out, ok=1)
    assert jobs.cli("stop", job_id, "--no-wait").returncode == 0
    assert jobs.wait(job_id) == "STOPPED"
    assert jobs.status_counts(out)["pending"] > 0  # it did stop half way
    jobs.run(s3_meshes, out)
    assert_same_weights(jobs, out, reference[2])


def test_killed_worker_is_retried_and_the_result_is_unchanged(jobs, reference, s3_meshes):
    out = s3_meshes.replace("/meshes", "/killed.zarr")
    job_id = jobs.submit(s3_meshes, out)
    jobs.wait_for_rows(out, ok=1)
    victims = fitting_actor_pids(jobs.ray_head)
    assert victims, "no fitting actor process found"
    os.kill(victims[0], signal.SIGKILL)
    assert jobs.wait(job_id) == "SUCCEEDED", jobs.logs(job_id)
    assert_same_weights(jobs, out, reference[2])


@pytest.mark.skipif(os.environ.get("INRZOO_REUSE_SERVICES") == "1",
                    reason="stops the object store: only on the test session's own services")
def test_store_outage_fails_naming_the_store_and_a_resubmit_completes(jobs, reference, s3_meshes, service_stack,
                                                                     object_store):
    out = s3_meshes.replace("/meshes", "/outage.zarr")
    # One botocore attempt per call: its own five (~10 s against a closed port) would multiply ours.
    job_id = jobs.submit(s3_meshes, out, "runtime.store_retries=3", "runtime.store_backoff_s=0.5",
                         env={"AWS_MAX_ATTEMPTS": "1"})
    jobs.wait_for_rows(out, ok=1)
    assert service_stack.script("objectstore", "stop", service_stack.env).returncode == 0
    try:
        assert jobs.wait(job_id) == "FAILED"
        logs = jobs.logs(job_id)
        assert "did not answer after 3 attempts" in logs and object_store.endpoint_url in logs
    finally:
        started = service_stack.script("objectstore", "start", service_stack.env)
        assert started.returncode == 0, started.stderr
    jobs.run(s3_meshes, out, "runtime.store_retries=3", "runtime.store_backoff_s=0.5")
    assert_same_weights(jobs, out, reference[2])
