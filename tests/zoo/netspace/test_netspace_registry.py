"""NetSpace registered on a real MLflow server: a gate that passes sets the alias, one that fails
registers the version without it, and a task run on `models:/NAME@ALIAS` reads the registry of
the job's tracking config (not MLflow's default store) and loads the model with every unpickler
patched to fail."""

from __future__ import annotations

import pickle
import uuid
from pathlib import Path

import pytest
import torch

from inrzoo import config as configlib
from inrzoo.zoo.core.job_config import TrainJobConfig
from netspace_helpers import tiny_space_config

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def job_config(uri: str, tmp_path: Path, tracking_uri: str, model_name: str, threshold: float) -> TrainJobConfig:
    return configlib.from_dict(TrainJobConfig, {
        "model": {"name": "netspace", **configlib.to_dict(tiny_space_config(width=1024, teacher="best"))},
        "data": {"uri": uri, "options": {"images_per_batch": 32}},
        "train": {"epochs": 1, "batch_size": 3, "optimizer": {"name": "adam", "lr": 0.001}},
        "checkpoint": {"storage_path": str(tmp_path / "ckpt")},
        "evaluation": {"tasks": ["netspace_decoding"]},
        "tracking": {"tracking_uri": tracking_uri, "experiment": f"it-netspace-{uuid.uuid4().hex[:6]}"},
        "registry": {"model_name": model_name,
                     "gates": [{"metric": "class_id_accuracy", "op": ">=", "threshold": threshold}]}})


def test_gated_registration_and_a_task_on_the_alias(local_ray, digits_zoo, mlflow_server, tmp_path, monkeypatch):
    import cloudpickle
    import mlflow

    from inrzoo.zoo.core.job import run_training_job
    from inrzoo.zoo.core.tasks import run_task_job

    previous = mlflow.get_tracking_uri()
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # the job config alone names the server
    name = f"netspace-it-{uuid.uuid4().hex[:6]}"
    try:
        passed = run_training_job(job_config(digits_zoo, tmp_path / "a", mlflow_server.tracking_uri, name, 0.0))
        assert passed.registration is not None and passed.registration.promoted
        failed = run_training_job(job_config(digits_zoo, tmp_path / "b", mlflow_server.tracking_uri, name, 1.1))
        assert failed.registration is not None and not failed.registration.promoted
        assert failed.registration.version != passed.registration.version

        client = mlflow.MlflowClient(mlflow_server.tracking_uri)
        champion = client.get_model_version_by_alias(name, "champion")
        assert champion.version == passed.registration.version
        assert champion.tags["inrzoo.model"] == "netspace" and champion.tags["inrzoo.dataset"] == digits_zoo

        def refuse(*args, **kwargs):
            raise AssertionError("loading the registered model tried to unpickle")

        for module, attr in ((pickle, "load"), (pickle, "loads"), (cloudpickle, "load"), (cloudpickle, "loads"),
                             (torch, "load")):
            monkeypatch.setattr(module, attr, refuse)
        mlflow.set_tracking_uri("sqlite:///" + str(tmp_path / "elsewhere.db"))  # a default store without the model
        cfg = job_config(digits_zoo, tmp_path / "a", mlflow_server.tracking_uri, name, 0.0)
        metrics = run_task_job("netspace_decoding", cfg, f"models:/{name}@champion", out_dir=tmp_path / "task")
        assert {"decoded_accuracy", "target_accuracy", "class_id_accuracy"} <= set(metrics)
        assert passed.metrics["decoded_accuracy"] == pytest.approx(metrics["decoded_accuracy"])
    finally:
        mlflow.set_tracking_uri(previous)
