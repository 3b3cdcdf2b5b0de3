"""Secrets planted in every config place that takes storage options, and in the environment,
never reach an output: the dataset (attributes, card, records, every stored object), the MLflow
run (params, tags, inputs, artifacts), the job's logs and the Ray job's metadata.

The object store's real credentials are the secrets: a job that converts with them only in its
config's storage options proves that the options were used, and a search of every output for
their values proves that they were not stored. A second conversion runs in this process with
the credentials only in the environment (plus planted credential variables)."""

from __future__ import annotations

import json
import shutil
import time
import uuid
from pathlib import Path

import mlflow
import pytest
import s3fs
import yaml

from integration.test_convert_job import BUDGET, DATA, MESHES, Jobs
from inrzoo.store import open_weights

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def s3_options(object_store) -> dict:
    """s3fs options carrying the credentials (and an endpoint that is no secret)."""
    return {"key": object_store.key, "secret": object_store.secret, "endpoint_url": object_store.endpoint_url}


@pytest.fixture(scope="module")
def meshes(object_store) -> str:
    fs = s3fs.S3FileSystem(**object_store.storage_options)
    prefix = object_store.uri("it-secrets", uuid.uuid4().hex[:8], "meshes")
    for label, names in MESHES.items():
        for name in names[:1]:
            fs.put_file(str(DATA / name), f"{prefix}/{label}/{name}")
    return prefix


def secrets_of(object_store) -> list[str]:
    return [object_store.key, object_store.secret]


def dataset_texts(uri: str, object_store) -> list[str]:
    """Every stored object of the dataset as bytes-text, plus its decoded record strings."""
    fs = s3fs.S3FileSystem(**object_store.storage_options)
    texts = [fs.cat_file(path).decode("latin-1") for path in fs.find(uri.removeprefix("s3://"))]
    ds = open_weights(uri, object_store.storage_options, status=None)
    texts += [str(value) for name in ("id", "source_uri", "error", "meta", "split") for value in ds.columns[name]]
    texts.append(json.dumps(ds.attrs))
    return texts


def mlflow_texts(tracking_uri: str, experiment: str, tmp_path: Path) -> list[str]:
    """Params, tags, metric names, dataset inputs and every artifact of every run."""
    mlflow.set_tracking_uri(tracking_uri)
    client = mlflow.MlflowClient()
    runs = mlflow.search_runs(experiment_names=[experiment], output_format="list")
    assert runs, f"no MLflow run in {experiment}"
    texts = []
    for run in runs:
        texts += [json.dumps(run.data.params), json.dumps(run.data.tags), json.dumps(list(run.data.metrics))]
        texts += [str(i.dataset) for i in run.inputs.dataset_inputs]
        target = tmp_path / run.info.run_id
        mlflow.artifacts.download_artifacts(run_id=run.info.run_id, dst_path=str(target))
        texts += [p.read_bytes().decode("latin-1") for p in target.rglob("*") if p.is_file()]
    return texts


def assert_absent(secrets: list[str], texts: list[str], where: str) -> None:
    for secret in secrets:
        found = [t[max(0, t.find(secret) - 80): t.find(secret) + 40] for t in texts if secret in t]
        assert not found, f"a secret was stored in {where}: ...{found[0]}..."


def test_secrets_in_storage_options_of_a_submitted_conversion_are_stored_nowhere(ray_head, object_store,
                                                                                 mlflow_server, meshes, tmp_path):
    out = meshes.replace("/meshes", "/submitted.zarr")
    work = tmp_path / "job"
    work.mkdir()
    shutil.copy(REPO / "jobs" / "convert.py", work / "convert.py")
    config = {"preset": "davies", "source": {"collection": "folder", "uri": meshes, "storage_options": s3_options(object_store)},
              "output": {"uri": out, "storage_options": s3_options(object_store)},
              "tracking": {"experiment": "it-secrets-job"}}
    (work / "secret.yaml").write_text(yaml.safe_dump(config))
    jobs = Jobs(ray_head, object_store, mlflow_server)
    jobs.job_env = {"MLFLOW_TRACKING_URI": mlflow_server.tracking_uri}  # no credentials in the job's environment
    job_id = f"secrets_{uuid.uuid4().hex[:8]}"
    for attempt in range(30):  # a head that has just started may not have its job agent yet
        done = jobs.cli("submit", "--no-wait", "--submission-id", job_id, "--working-dir", str(work),
                        "--runtime-env-json", json.dumps({"env_vars": jobs.job_env}), "--",
                        "python", "convert.py", "--config", "secret.yaml", *BUDGET)
        if done.returncode == 0 or "No available agent" not in done.stderr:
            break
        time.sleep(2)
    assert done.returncode == 0, done.stderr
    assert jobs.wait(job_id) == "SUCCEEDED", jobs.logs(job_id)

    from ray.job_submission import JobSubmissionClient

    info = JobSubmissionClient(ray_head.address).get_job_info(job_id)
    secrets = secrets_of(object_store)
    assert_absent(secrets, dataset_texts(out, object_store), "the dataset")
    assert_absent(secrets, mlflow_texts(mlflow_server.tracking_uri, "it-secrets-job", tmp_path), "MLflow")
    assert_absent(secrets, [jobs.logs(job_id)], "the job's logs")
    assert_absent(secrets, [json.dumps({"entrypoint": info.entrypoint, "metadata": info.metadata,
                                        "runtime_env": info.runtime_env})], "the Ray job's metadata")
    params = mlflow.search_runs(experiment_names=["it-secrets-job"], output_format="list")[0].data.params
    assert params["source.storage_options.secret"] == params["output.storage_options.key"] == "<redacted>"
    assert params["output.storage_options.endpoint_url"] == object_store.endpoint_url  # no secret: kept
    ds = open_weights(out, object_store.storage_options)
    assert len(ds) == 2 and ds.attrs["config"]["output"]["storage_options"]["secret"] == "<redacted>"


def test_secrets_in_the_environment_are_stored_nowhere(object_store, mlflow_server, meshes, tmp_path, monkeypatch):
    from inrzoo.pipeline import convert, load_convert_config

    planted = f"planted-{uuid.uuid4().hex}"
    for name, value in {**object_store.env, "AWS_SESSION_TOKEN_UNUSED": planted, "MLFLOW_TRACKING_USERNAME": "someone",
                        "MLFLOW_TRACKING_PASSWORD": planted + "-pw", "MLFLOW_TRACKING_URI": mlflow_server.tracking_uri,
                        "INRZOO_STATE_DIR": str(tmp_path / "state")}.items():
        monkeypatch.setenv(name, value)
    out = meshes.replace("/meshes", "/from-env.zarr")
    overrides = [f"source.uri={meshes}", f"output.uri={out}", "runtime.executor=local", "tracking.experiment=it-secrets-env",
                 f"output.storage_options.endpoint_url={object_store.endpoint_url}", *BUDGET]
    report = convert(load_convert_config(str(REPO / "jobs" / "configs" / "davies.yaml"), overrides))
    assert report.ok == 2
    secrets = [*secrets_of(object_store), planted, planted + "-pw"]
    assert_absent(secrets, dataset_texts(out, object_store), "the dataset")
    assert_absent(secrets, mlflow_texts(mlflow_server.tracking_uri, "it-secrets-env", tmp_path), "MLflow")


def test_secrets_in_storage_options_of_a_submitted_training_job_are_stored_nowhere(ray_head, object_store,
                                                                                   mlflow_server, tmp_path):
    from integration.test_train_job import TrainJobs, tiny_dataset

    prefix = object_store.uri("it-secrets", uuid.uuid4().hex[:8])
    tiny_dataset(f"{prefix}/tiny.zarr", object_store.storage_options)
    model_name = f"linear-secrets-{uuid.uuid4().hex[:6]}"
    host = object_store.endpoint_url.split("://", 1)[1].rstrip("/")
    config = {
        "model": {"name": "linear", "embedding_dim": 8},
        "data": {"uri": f"{prefix}/tiny.zarr", "storage_options": s3_options(object_store),
                 "split": {"test_fraction": 0.25}},
        "train": {"epochs": 3, "batch_size": 4},
        "scaling": {"workers": 1, "cpus_per_worker": 0.5},
        "checkpoint": {"storage_path": f"{prefix}/checkpoints", "storage_options": {
            "endpoint_override": host, "scheme": "http", "access_key": object_store.key,
            "secret_key": object_store.secret}},
        "tracking": {"experiment": "it-secrets-train"},
        "evaluation": {"tasks": ["classification"]},
        "tasks": {"classification": {"classifier": {"layers_dim": [8, 8], "epochs": 2, "batch_size": 8}}},
        "registry": {"model_name": model_name, "gates": []},
    }
    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump(config))
    jobs = TrainJobs(ray_head, object_store, mlflow_server)
    jobs.job_env = {"MLFLOW_TRACKING_URI": mlflow_server.tracking_uri}  # credentials only in the config
    job_id = jobs.submit(path)
    assert jobs.wait(job_id) == "SUCCEEDED", jobs.logs(job_id)

    from ray.job_submission import JobSubmissionClient

    secrets = secrets_of(object_store)
    fs = s3fs.S3FileSystem(**object_store.storage_options)
    stored = [fs.cat_file(p).decode("latin-1") for p in fs.find(f"{prefix.removeprefix('s3://')}/checkpoints")]
    assert stored, "no training state was written"
    assert_absent(secrets, stored, "the training states")
    assert_absent(secrets, mlflow_texts(mlflow_server.tracking_uri, "it-secrets-train", tmp_path), "MLflow")
    client = mlflow.MlflowClient(mlflow_server.tracking_uri)
    versions = client.search_model_versions(f"name='{model_name}'")
    assert versions and not any(s in json.dumps([dict(v.tags), v.description, v.source]) for v in versions for s in secrets)
    info = JobSubmissionClient(ray_head.address).get_job_info(job_id)
    assert_absent(secrets, [jobs.logs(job_id), json.dumps({"entrypoint": info.entrypoint, "metadata": info.metadata,
                                                           "runtime_env": info.runtime_env})], "the job")
    params = mlflow.search_runs(experiment_names=["it-secrets-train"], output_format="list")[0].data.params
    assert params["data.storage_options.secret"] == params["checkpoint.storage_options.secret_key"] == "<redacted>"
