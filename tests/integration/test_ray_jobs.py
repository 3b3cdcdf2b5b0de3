"""`ray job submit` of jobs/smoke.py against the local Ray head, output in the object store."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

JOBS = Path(__file__).resolve().parents[2] / "jobs"
RAY = str(Path(sys.executable).parent / "ray")


def ray_cli(ray_head, command: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([RAY, "job", command, "--address", ray_head.address, *args],
                          env={**os.environ, **ray_head.env}, capture_output=True, text=True,
                          timeout=timeout)


def test_smoke_job_runs_ray_data_and_writes_to_the_object_store(ray_head, object_store):
    import pyarrow.parquet as pq
    import s3fs
    from ray.job_submission import JobStatus, JobSubmissionClient

    terminal = {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.STOPPED}

    run_id = f"smoke_{uuid.uuid4().hex[:8]}"
    output = object_store.uri("it-smoke", run_id)
    s3_env = {k: v for k, v in object_store.env.items() if k.startswith("AWS_")}
    submitted = ray_cli(
        ray_head, "submit", "--no-wait", "--submission-id", run_id, "--working-dir", str(JOBS),
        "--runtime-env-json", json.dumps({"env_vars": s3_env}),
        "--", "python", "smoke.py", output, "--items", "20",
    )
    assert submitted.returncode == 0, submitted.stderr

    client = JobSubmissionClient(ray_head.address)
    deadline = time.monotonic() + 420
    while client.get_job_status(run_id) not in terminal and time.monotonic() < deadline:
        time.sleep(2)
    status = ray_cli(ray_head, "status", run_id)
    logs = ray_cli(ray_head, "logs", run_id)
    assert client.get_job_status(run_id) == JobStatus.SUCCEEDED, f"{status.stdout}\n{logs.stdout}"
    assert "succeeded" in status.stdout.lower()
    assert logs.returncode == 0
    assert "smoke summary:" in logs.stdout

    fs = s3fs.S3FileSystem(**object_store.storage_options)
    summary = json.loads(fs.cat(f"{output}/summary.json"))
    assert summary == {"items": 20, "sum_of_squares": sum(i * i for i in range(20)), "nodes": 1}
    parts = [p for p in fs.find(f"{output}/squares") if p.endswith(".parquet")]
    rows = []
    for part in parts:
        rows += pq.read_table(io.BytesIO(fs.cat(part))).to_pylist()
    assert sorted((r["id"], r["square"]) for r in rows) == [(i, i * i) for i in range(20)]
