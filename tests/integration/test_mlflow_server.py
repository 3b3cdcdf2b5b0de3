"""The MLflow tracking server: runs, artifacts in the object store, the model registry with
aliases, models loaded back without unpickling, the UI and the REST API."""

from __future__ import annotations

import json
import pickle
import urllib.request
import uuid
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.integration

MODEL_CODE = Path(__file__).with_name("affine_model_code.py")


@pytest.fixture
def tracking(mlflow_server, monkeypatch):
    """The fluent API pointed at the test server for one test, then restored."""
    import mlflow

    previous = mlflow.get_tracking_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.tracking_uri)
    mlflow.set_tracking_uri(mlflow_server.tracking_uri)
    yield mlflow
    mlflow.set_tracking_uri(previous)


def test_run_params_metrics_and_artifact_land_in_the_object_store(tracking, object_store, tmp_path):
    import s3fs
    from mlflow import MlflowClient

    client = MlflowClient()
    experiment = client.create_experiment(f"it-{uuid.uuid4().hex[:8]}")
    notes = tmp_path / "notes.txt"
    notes.write_text("fitted 3 shapes\n")
    with tracking.start_run(experiment_id=experiment) as run:
        tracking.log_params({"lr": 1e-4, "arch": "relu_mlp"})
        for step, loss in enumerate([0.5, 0.25, 0.125]):
            tracking.log_metric("loss", loss, step=step)
        tracking.log_artifact(str(notes))

    stored = client.get_run(run.info.run_id).data
    assert stored.params == {"lr": "0.0001", "arch": "relu_mlp"}
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 0.5), (1, 0.25), (2, 0.125)]
    downloaded = client.download_artifacts(run.info.run_id, "notes.txt", str(tmp_path / "back"))
    assert Path(downloaded).read_text() == "fitted 3 shapes\n"

    fs = s3fs.S3FileSystem(**object_store.storage_options)
    key = object_store.uri("mlflow", experiment, run.info.run_id, "artifacts", "notes.txt")
    assert fs.cat(key) == b"fitted 3 shapes\n"


def test_registered_model_loads_by_alias_without_unpickling(tracking, mlflow_server, tmp_path, monkeypatch):
    from mlflow import MlflowClient
    from safetensors.numpy import save_file

    name = f"affine-{uuid.uuid4().hex[:8]}"
    w = np.arange(6, dtype=np.float32).reshape(3, 2)
    b = np.array([0.5, -1.0], dtype=np.float32)
    save_file({"w": w, "b": b}, str(tmp_path / "weights.safetensors"))
    with tracking.start_run():
        tracking.pyfunc.log_model(
            name="model", python_model=str(MODEL_CODE),
            artifacts={"weights": str(tmp_path / "weights.safetensors")},
            registered_model_name=name, pip_requirements=["numpy", "safetensors"],
        )
    client = MlflowClient()
    version = client.search_model_versions(f"name = '{name}'")[0].version
    client.set_registered_model_alias(name, "champion", version)

    def refuse(*args, **kwargs):
        raise AssertionError("loading the model tried to unpickle")

    import cloudpickle
    for module, attr in ((pickle, "load"), (pickle, "loads"), (cloudpickle, "load"), (cloudpickle, "loads")):
        monkeypatch.setattr(module, attr, refuse)
    model = tracking.pyfunc.load_model(f"models:/{name}@champion")
    x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], dtype=np.float32)
    np.testing.assert_allclose(model.predict(x), x @ w + b)
    monkeypatch.undo()

    model_files = tracking.artifacts.download_artifacts(f"models:/{name}@champion", dst_path=str(tmp_path / "m"))
    assert not list(Path(model_files).rglob("*.pkl"))

    base = mlflow_server.tracking_uri
    with urllib.request.urlopen(f"{base}/", timeout=30) as page:
        assert page.status == 200
        assert b"<html" in page.read().lower()
    search = f"{base}/api/2.0/mlflow/registered-models/search?max_results=1000"
    with urllib.request.urlopen(search, timeout=30) as response:
        listed = json.loads(response.read())
    entry = next(m for m in listed["registered_models"] if m["name"] == name)
    assert {"alias": "champion", "version": version} in entry["aliases"]
