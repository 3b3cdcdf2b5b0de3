"""The zoo core end to end with its toy model (a linear autoencoder over weights): `ray job submit`
of jobs/train.py against the local services, a TorchTrainer with 2 CPU workers (DDP), the weight
dataset and the training states in the object store, the run and the registered model on the
MLflow server. A job stopped after its first training state and submitted again resumes from it
(the epoch counter goes on in the same MLflow run) and finishes; `inrzoo zoo list` shows the
model, and `models:/NAME@champion` loads with every unpickler patched to fail."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import cloudpickle
import mlflow
import numpy as np
import pytest
import s3fs
import torch
import yaml

from integration.test_convert_job import Jobs  # tests/ is on the import path (pyproject)
from inrzoo.inr import ArchSpec, build, stack_params
from inrzoo.store import RowResult, create_weights

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
EPOCHS = 30


def tiny_dataset(uri: str, storage_options: dict):
    """16 tiny SIRENs of two families (family 1: hidden biases shifted by 0.5), no split column."""
    arch = build(ArchSpec.default("siren", hidden=[16] * 3))
    items = [arch.init_params(i) for i in range(16)]
    items = [{n: p + 0.5 if i % 2 and n.endswith("1.bias") else p for n, p in params.items()}
             for i, params in enumerate(items)]
    params = stack_params(items)
    listing = [{"id": f"s{i}", "uri": f"synthetic://{i}", "label": "ab"[i % 2], "split": None, "meta": {}}
               for i in range(16)]
    writer = create_weights(uri, listing, [arch.spec], chunk_rows=4, init_seed=0, storage_options=storage_options)
    for unit in writer.regions():
        writer.write(unit, [RowResult(row=r, params={n: p[r] for n, p in params.items()}, arch=arch.spec) for r in unit])
    writer.finalize(title="tiny SIREN families")
    return params


def job_config(path: Path, dataset: str, checkpoints: str, endpoint: str, model_name: str) -> Path:
    host = endpoint.split("://", 1)[1].rstrip("/")
    data = {
        "model": {"name": "linear", "embedding_dim": 8},
        "data": {"uri": dataset, "split": {"test_fraction": 0.25}},
        "train": {"epochs": EPOCHS, "batch_size": 4, "optimizer": {"name": "adam", "lr": 0.001}},
        "scaling": {"workers": 2, "cpus_per_worker": 0.5},
        "checkpoint": {"storage_path": checkpoints, "storage_options": {"endpoint_override": host, "scheme": "http"}},
        "tracking": {"experiment": "it-train"},
        "evaluation": {"tasks": ["classification", "retrieval", "plots"]},
        "tasks": {"classification": {"classifier": {"layers_dim": [8, 16, 8], "epochs": 10, "batch_size": 8}},
                  "plots": {"mesh_resolution": 16}},
        "registry": {"model_name": model_name, "gates": [{"metric": "map@1", "op": ">=", "threshold": 0.0}]},
    }
    path.write_text(yaml.safe_dump(data))
    return path


class TrainJobs(Jobs):
    """The convert test's `ray job` helpers, submitting jobs/train.py instead."""

    def submit(self, config: Path) -> str:
        job_id = f"train_{uuid.uuid4().hex[:8]}"
        # --address before "--": everything after it is the entrypoint's own command line.
        done = subprocess.run([str(Path(sys.executable).parent / "ray"), "job", "submit", "--address",
                               self.ray_head.address, "--no-wait", "--submission-id", job_id, "--working-dir",
                               str(REPO / "jobs"), "--runtime-env-json", json.dumps({"env_vars": self.job_env}),
                               "--", "python", "train.py", "--config", str(config)],
                              env=self.env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return job_id

    def status(self, job_id: str) -> str:
        from ray.job_submission import JobSubmissionClient

        return JobSubmissionClient(self.ray_head.address).get_job_status(job_id).value

    def wait(self, job_id: str, timeout: float = 420) -> str:
        deadline = time.monotonic() + timeout
        while (status := self.status(job_id)) not in ("SUCCEEDED", "FAILED", "STOPPED"):
            assert time.monotonic() < deadline, f"job {job_id} still {status} after {timeout}s"
            time.sleep(1)
        return status


@dataclass
class ResumedTraining:
    """What a training job stopped after its first training state and submitted again left."""
    prefix: str
    model_name: str
    params: dict[str, torch.Tensor]
    stopped_logs: str
    logs: str
    summary: dict


def stop_and_resume_training(ray_head, object_store, mlflow_server, workdir: Path) -> ResumedTraining:
    """Submit the toy model's training, stop it once a training state is in the store, submit it
    again and wait for it to finish (the session fixture `resumed_training` runs this once)."""
    prefix = object_store.uri("it-train", uuid.uuid4().hex[:8])
    params = tiny_dataset(f"{prefix}/tiny.zarr", object_store.storage_options)
    model_name = f"linear-it-{uuid.uuid4().hex[:6]}"
    config = job_config(workdir / "train.yaml", f"{prefix}/tiny.zarr", f"{prefix}/checkpoints",
                        object_store.endpoint_url, model_name)
    jobs = TrainJobs(ray_head, object_store, mlflow_server)
    fs = s3fs.S3FileSystem(**object_store.storage_options)

    first = jobs.submit(config)
    deadline = time.monotonic() + 300
    while not fs.glob(f"{prefix}/checkpoints/*/checkpoint_*/state.json"):
        fs.invalidate_cache()
        assert time.monotonic() < deadline, f"no checkpoint after 300 s:\n{jobs.logs(first)}"
        assert "FAILED" not in jobs.status(first), jobs.logs(first)
        time.sleep(0.5)
    assert jobs.cli("stop", first).returncode == 0
    assert jobs.wait(first) == "STOPPED"
    stopped_logs = jobs.logs(first)

    second = jobs.submit(config)
    assert jobs.wait(second) == "SUCCEEDED", jobs.logs(second)
    logs = jobs.logs(second)
    summary = json.loads(next(line for line in logs.splitlines() if line.startswith('{"run"')))
    return ResumedTraining(prefix, model_name, params, stopped_logs, logs, summary)


def test_stopped_training_resumes_from_its_training_state_and_registers_the_model(resumed_training, mlflow_server,
                                                                                 monkeypatch):
    prefix, model_name, params = resumed_training.prefix, resumed_training.model_name, resumed_training.params
    logs, summary = resumed_training.logs, resumed_training.summary
    assert f"epoch {EPOCHS}/{EPOCHS}" not in resumed_training.stopped_logs  # it did stop half way
    resumed = int(logs.split("resumed from the training state of epoch ")[1].split()[0])
    assert 1 <= resumed < EPOCHS and f"epoch {resumed + 1}/{EPOCHS}" in logs and f"epoch 1/{EPOCHS}" not in logs
    assert summary["epochs"] == EPOCHS and summary["registered"]["promoted"]

    # One MLflow run across both attempts: the epoch metric counts on from the checkpoint.
    mlflow.set_tracking_uri(mlflow_server.tracking_uri)
    client = mlflow.MlflowClient()
    history = client.get_metric_history(summary["mlflow_run_id"], "epoch")
    assert {int(m.value) for m in history} == set(range(1, EPOCHS + 1))
    run = client.get_run(summary["mlflow_run_id"])
    assert {"eval_accuracy", "eval_map_at_1", "eval_map_at_5", "eval_map_at_10", "eval_raw_weights_accuracy"} <= set(run.data.metrics)
    assert run.info.run_name.startswith("train linear") and run.data.tags["mlflow.note.content"]
    assert {a.path for a in client.list_artifacts(run.info.run_id, "evaluation")} == {"evaluation/interpolation.png",
                                                                                    "evaluation/tsne.png"}

    listing = subprocess.run([str(Path(sys.executable).parent / "inrzoo"), "zoo", "list", "--tracking-uri",
                              mlflow_server.tracking_uri], capture_output=True, text=True, timeout=120)
    assert listing.returncode == 0 and model_name in listing.stdout and "champion" in listing.stdout, listing
    version = client.get_model_version_by_alias(model_name, "champion")
    assert version.tags["inrzoo.dataset"] == f"{prefix}/tiny.zarr" and version.tags["inrzoo.model"] == "linear"

    def refuse(*args, **kwargs):
        raise AssertionError("loading the registered model tried to unpickle")

    for module, attr in ((pickle, "load"), (pickle, "loads"), (cloudpickle, "load"), (cloudpickle, "loads"),
                         (torch, "load")):
        monkeypatch.setattr(module, attr, refuse)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.tracking_uri)
    served = mlflow.pyfunc.load_model(f"models:/{model_name}@champion")
    flat = torch.cat([p.reshape(16, -1) for p in params.values()], 1).numpy()
    embeddings = served.predict(flat)
    assert embeddings.shape == (16, 8) and np.isfinite(embeddings).all()
