"""The cluster manifests parse and point at entrypoints and configs that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from inrzoo.pipeline import load_convert_config

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = ROOT / "infra" / "cluster"


def job_commands(text: str) -> list[str]:
    """Every `python jobs/...py --config ...` command line in a manifest (comments included)."""
    flat = re.sub(r"\\\n\s*", " ", text)
    return re.findall(r"python (jobs/\S+\.py) --config (\S+)", flat)


@pytest.mark.parametrize("name", ["ray-cluster.yaml", "kuberay.yaml", "compose.yaml"])
def test_manifest_parses(name):
    docs = list(yaml.safe_load_all((CLUSTER / name).read_text()))
    assert docs and all(isinstance(d, dict) for d in docs)


def test_ray_cluster_has_gpu_workers_and_the_image():
    spec = yaml.safe_load((CLUSTER / "ray-cluster.yaml").read_text())
    gpu = [t for t in spec["available_node_types"].values() if t.get("resources", {}).get("GPU")]
    assert gpu and spec["docker"]["image"].startswith("inrzoo")
    assert any("RAY_AUTH_MODE=" in c for c in spec["head_start_ray_commands"])


def test_kuberay_job_runs_the_conversion_on_gpu_workers():
    job = yaml.safe_load((CLUSTER / "kuberay.yaml").read_text())
    assert job["kind"] == "RayJob"
    workers = job["spec"]["rayClusterSpec"]["workerGroupSpecs"]
    assert any(c["resources"]["limits"].get("nvidia.com/gpu") for w in workers for c in w["template"]["spec"]["containers"])
    (entry,) = job_commands("python " + job["spec"]["entrypoint"].split("python ", 1)[1])
    assert entry[0] == "jobs/convert.py"


def test_compose_has_object_store_and_mlflow_on_postgres():
    services = yaml.safe_load((CLUSTER / "compose.yaml").read_text())["services"]
    assert {"objectstore", "postgres", "mlflow"} <= set(services)
    assert "postgresql://" in services["mlflow"]["command"]


@pytest.mark.parametrize("path", [CLUSTER / "ray-cluster.yaml", CLUSTER / "kuberay.yaml", ROOT / "docs" / "cluster.md",
                                  *sorted((ROOT / "jobs" / "configs").glob("*.yaml"))])
def test_named_entrypoints_and_configs_exist_and_load(path):
    commands = job_commands(path.read_text())
    assert commands, f"{path} names no job command"
    for script, config in commands:
        assert (ROOT / script).is_file(), f"{path}: {script} does not exist"
        assert (ROOT / config).is_file(), f"{path}: {config} does not exist"
        if script == "jobs/convert.py":  # other jobs (garments, classifier zoos) have their own configs
            load_convert_config(ROOT / config)
        else:
            assert isinstance(yaml.safe_load((ROOT / config).read_text()), dict)


def test_dockerfile_installs_the_lock_and_the_project():
    text = (CLUSTER / "Dockerfile").read_text()
    assert "requirements.lock" in text and "torch==2.13.0" in text and "pip install --no-cache-dir --no-deps ." in text
