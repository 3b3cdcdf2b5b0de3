"""MLflow tracking shared by conversions and training jobs.

With no server configured, runs go to the embedded default: a SQLite store and local artifacts
under the state directory (INRZOO_STATE_DIR, default .inrzoo/ in the working directory), so
converting, training and registering never need a service.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

MAX_PARAM_CHARS = 6000  # MLflow's limit on one param value


def state_dir() -> Path:
    path = Path(os.environ.get("INRZOO_STATE_DIR", ".inrzoo")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def tracking_uri(explicit: str = "") -> str:
    """The configured URI, else MLFLOW_TRACKING_URI, else the embedded SQLite store."""
    if explicit:
        return explicit
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    return f"sqlite:///{state_dir() / 'mlflow.db'}"


def use_experiment(uri: str, name: str) -> str:
    """Point MLflow at `uri` and make `name` the active experiment; returns its id."""
    import mlflow

    mlflow.set_tracking_uri(uri)
    experiment = mlflow.get_experiment_by_name(name)
    if experiment is not None:
        mlflow.set_experiment(experiment_id=experiment.experiment_id)
        return experiment.experiment_id
    artifact_location = None
    if uri.startswith("sqlite:"):
        # Without a server, artifacts would land in ./mlruns of whatever directory runs the job.
        artifact_location = (state_dir() / "mlartifacts").as_uri()
    experiment_id = mlflow.create_experiment(name, artifact_location=artifact_location)
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


def flatten_params(data: Any, prefix: str = "") -> dict[str, str]:
    """Nested config data as MLflow params: dotted keys, values as text (lists kept as JSON-ish)."""
    flat: dict[str, str] = {}
    if isinstance(data, dict) and data:
        for key, value in data.items():
            flat.update(flatten_params(value, f"{prefix}{key}."))
        return flat
    text = str(data)
    flat[prefix.rstrip(".")] = text if len(text) <= MAX_PARAM_CHARS else text[: MAX_PARAM_CHARS - 3] + "..."
    return flat


def log_params(data: dict[str, Any]) -> None:
    import mlflow

    from inrzoo.redact import redact

    items = list(flatten_params(redact(data)).items())
    for start in range(0, len(items), 100):  # MLflow's batch limit
        mlflow.log_params(dict(items[start:start + 100]))


def log_dataset_input(uri: str, digest: str, name: str, context: str) -> None:
    """Record a weight dataset as a run input (lineage: URI and digest)."""
    import mlflow
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.meta_dataset import MetaDataset

    from inrzoo.redact import redact_text

    uri = redact_text(uri)
    try:
        source = resolve_dataset_source(uri)
    except Exception:  # a URI scheme MLflow has no source type for: keep it as an HTTP-like URL
        from mlflow.data.http_dataset_source import HTTPDatasetSource

        source = HTTPDatasetSource(url=uri)
    mlflow.log_input(MetaDataset(source=source, name=name, digest=digest[:36]), context=context)
