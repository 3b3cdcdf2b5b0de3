"""Session fixtures of the integration modules: the uninterrupted conversion job and the
stopped-and-resumed training job are submitted once each and read by every test that needs
them (the conversion tests compare interrupted runs with the first; the MLflow UI test opens
the run of one and the registered model of the other)."""

from __future__ import annotations

import uuid

import pytest
import s3fs

from integration.test_convert_job import DATA, MESHES, Jobs  # tests/ is on the import path (pyproject)
from integration.test_train_job import ResumedTraining, stop_and_resume_training


@pytest.fixture(scope="session")
def s3_meshes(object_store) -> str:
    """The test meshes plus one broken file, uploaded once: s3://bucket/<prefix>/<label>/<file>."""
    fs = s3fs.S3FileSystem(**object_store.storage_options)
    prefix = object_store.uri("it-convert", uuid.uuid4().hex[:8], "meshes")
    for label, names in MESHES.items():
        for name in names:
            fs.put_file(str(DATA / name), f"{prefix}/{label}/{name}")
    fs.pipe_file(f"{prefix}/block/broken.stl", b"solid broken\n facet normal nan\n garbage")
    return prefix


@pytest.fixture(scope="session")
def jobs(ray_head, object_store, mlflow_server) -> Jobs:
    return Jobs(ray_head, object_store, mlflow_server)


@pytest.fixture(scope="session")
def reference(jobs, s3_meshes):
    """An uninterrupted conversion: (dataset URI, job id, weights), the weights every interrupted
    run must end with."""
    out = s3_meshes.replace("/meshes", "/reference.zarr")
    job_id = jobs.run(s3_meshes, out)
    return out, job_id, jobs.params(out)


@pytest.fixture(scope="session")
def resumed_training(ray_head, object_store, mlflow_server, tmp_path_factory) -> ResumedTraining:
    return stop_and_resume_training(ray_head, object_store, mlflow_server, tmp_path_factory.mktemp("train-job"))
