"""The model zoo in the MLflow registry: models logged without pickle, aliases behind gates.

A zoo model is logged as an MLflow "model from code": a Python file that rebuilds the network
from a JSON config and loads its weights from a safetensors artifact, so loading
`models:/NAME@ALIAS` runs that file and never unpickles anything.
"""

from __future__ import annotations

import logging
import operator
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inrzoo import tracking

log = logging.getLogger(__name__)

COMPARATORS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}


@dataclass
class Gate:
    """`metric op threshold`, e.g. accuracy >= 0.5: what a model must show to get an alias. With
    `baseline` the bound is relative, `metric op threshold * baseline`: drapenet_b2g <= 1.0 x
    skinning_b2g asks the model to beat the baseline measured in the same evaluation."""

    metric: str
    op: str = ">="
    threshold: float = 0.0
    baseline: str = ""

    def __post_init__(self) -> None:
        if self.op not in COMPARATORS:
            raise ValueError(f"gate on {self.metric!r}: op must be one of {sorted(COMPARATORS)}, got {self.op!r}")

    def bound(self, metrics: dict[str, float]) -> float | None:
        """The value the metric is compared with (None: the baseline metric is missing)."""
        if not self.baseline:
            return self.threshold
        return self.threshold * float(metrics[self.baseline]) if self.baseline in metrics else None

    def passes(self, metrics: dict[str, float]) -> bool:
        bound = self.bound(metrics)
        return self.metric in metrics and bound is not None and COMPARATORS[self.op](float(metrics[self.metric]), bound)

    def describe(self, metrics: dict[str, float]) -> str:
        value = metrics.get(self.metric)
        verdict = "pass" if self.passes(metrics) else "fail"
        if self.baseline:
            return (f"{self.metric}={value} {self.op} {self.threshold} x {self.baseline}"
                    f"={metrics.get(self.baseline)}: {verdict}")
        return f"{self.metric}={value} {self.op} {self.threshold}: {verdict}"


@dataclass
class RegistryConfig:
    model_name: str = ""
    alias: str = "champion"
    gates: list[Gate] = field(default_factory=list)
    description: str = ""


def git_commit(repo: Path | None = None) -> str:
    """The checkout's commit (empty outside a git checkout, e.g. in a cluster image)."""
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo or Path.cwd(), capture_output=True, text=True,
                              timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def log_model_from_code(code_path: Path, artifacts: dict[str, str], *, registered_name: str, signature: Any,
                        input_example: Any, tags: dict[str, str], description: str = "") -> Any:
    """Log and register a pyfunc model whose loader is `code_path`; returns the ModelVersion."""
    import mlflow

    info = mlflow.pyfunc.log_model(name="model", python_model=str(code_path), artifacts=artifacts,
                                   signature=signature, input_example=input_example,
                                   registered_model_name=registered_name)
    client = mlflow.MlflowClient()
    version = client.get_model_version(registered_name, info.registered_model_version)
    for key, value in tags.items():
        client.set_model_version_tag(registered_name, version.version, key, value)
    if description:
        client.update_model_version(registered_name, version.version, description=description)
    link = tracking.ui_url(mlflow.get_tracking_uri(), f"models/{registered_name}/versions/{version.version}")
    log.info("registered %s version %s%s", registered_name, version.version, f": {link}" if link else "")
    return version


def promote_if_gates_pass(name: str, version: str, metrics: dict[str, float], cfg: RegistryConfig) -> tuple[bool, str]:
    """Set `cfg.alias` on the version only if every gate passes; returns (promoted, explanation)."""
    import mlflow

    client = mlflow.MlflowClient()
    lines = [gate.describe(metrics) for gate in cfg.gates]
    promoted = bool(cfg.gates) and all(gate.passes(metrics) for gate in cfg.gates)
    client.set_model_version_tag(name, version, "inrzoo.gates", "; ".join(lines) or "no gates configured")
    if promoted:
        client.set_registered_model_alias(name, cfg.alias, version)
    return promoted, "; ".join(lines) or "no gates configured: alias not set"


def list_zoo(tracking_uri: str = "") -> list[dict[str, Any]]:
    """Every registered model version with its aliases and description (newest first)."""
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=tracking.tracking_uri(tracking_uri))
    rows = []
    for model in client.search_registered_models():
        aliases_of: dict[str, list[str]] = {}
        for alias, version in (model.aliases or {}).items():
            aliases_of.setdefault(str(version), []).append(alias)
        for version in client.search_model_versions(f"name='{model.name}'"):
            rows.append({"name": model.name, "version": str(version.version),
                         "aliases": sorted(aliases_of.get(str(version.version), [])),
                         "description": version.description or model.description or "",
                         "tags": dict(version.tags or {}), "run_id": version.run_id})
    return sorted(rows, key=lambda r: (r["name"], -int(r["version"])))


def parse_model_ref(ref: str) -> tuple[str, str | None, str | None]:
    """NAME@ALIAS, NAME/VERSION or NAME (models:/ prefix optional) -> (name, alias, version)."""
    body = ref.removeprefix("models:/").strip("/")
    name, at, alias = body.partition("@")
    if at:
        if not name or not alias:
            raise ValueError(f"model {ref!r}: expected NAME@ALIAS")
        return name, alias, None
    name, slash, version = body.rpartition("/")
    if slash and version.isdigit() and name:
        return name, None, version
    if not body or "/" in body:
        raise ValueError(f"model {ref!r}: expected NAME@ALIAS, NAME/VERSION or NAME")
    return body, None, None


def pull_model(ref: str, dest: str | Path, tracking_uri: str = "") -> dict[str, Any]:
    """Download a registered model version (NAME@ALIAS, NAME/VERSION, or NAME for the newest) into
    `dest`, loadable offline with mlflow.pyfunc.load_model(dest); writes dest/inrzoo-model.json
    (name, version, aliases, run, tags, description) and returns it."""
    import json

    import mlflow
    from mlflow.exceptions import MlflowException

    uri = tracking.tracking_uri(tracking_uri)
    client = mlflow.MlflowClient(tracking_uri=uri)
    name, alias, version = parse_model_ref(ref)
    try:
        if alias:
            found = client.get_model_version_by_alias(name, alias)
        elif version:
            found = client.get_model_version(name, version)
        else:
            found = max(client.search_model_versions(f"name='{name}'"), key=lambda v: int(v.version), default=None)
            if found is None:
                raise ValueError(f"model {ref!r}: no version registered at {uri}")
    except MlflowException as exc:
        raise ValueError(f"model {ref!r} at {uri}: {exc.message}") from exc
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{name}/{found.version}", dst_path=str(dest),
                                        tracking_uri=uri)
    aliases = sorted(a for a, v in (client.get_registered_model(name).aliases or {}).items() if str(v) == str(found.version))
    info = {"name": name, "version": str(found.version), "aliases": aliases, "run_id": found.run_id,
            "tags": dict(found.tags or {}), "description": found.description or "", "tracking_uri": uri,
            "load": f"mlflow.pyfunc.load_model({str(dest)!r})"}
    (dest / "inrzoo-model.json").write_text(json.dumps(info, indent=2) + "\n")
    return info
