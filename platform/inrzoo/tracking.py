"""MLflow tracking shared by conversions, training jobs and tasks: one config, one way to open a run.

With no server configured, runs go to the embedded default: a SQLite store and local artifacts
under the state directory (INRZOO_STATE_DIR, default .inrzoo/ in the working directory), so
converting, training and registering never need a service.

    with tracked_run(cfg.tracking, experiment="inrzoo-conversions", name="convert thingi10k davies",
                     kind="conversion", description="...", resume_key=dataset_uri) as run:
        if run is not None:        # None when tracking is disabled
            run.log_params(resolved_config)

Experiments are marked as model-development experiments and get a description; runs get
readable names and descriptions. A run with a `resume_key` that an earlier attempt left
unfinished is continued, not duplicated. MLflow 3.17's UI opens every experiment in its GenAI
view whatever the kind tag says (a browser's view is a per-browser setting, GenAI by default),
so the links jobs log (`ui_url`) ask for the model-training view, where the runs table is.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MAX_PARAM_CHARS = 6000  # MLflow's limit on one param value
RESUME_TAG = "inrzoo.resume_key"
KIND_TAG = "inrzoo.kind"
# Tags the MLflow UI reads: the experiment's kind picks its default page; notes are descriptions.
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
MODEL_DEVELOPMENT = "custom_model_development"
NOTE_TAG = "mlflow.note.content"
# The UI's view switch as a URL parameter: runs, metrics and artifacts instead of traces.
MODEL_TRAINING_VIEW = "workflowType=machine_learning"


@dataclass
class TrackingConfig:
    """Where and under which names a job is tracked (the same section in every job config)."""

    enabled: bool = True
    tracking_uri: str = ""  # empty: MLFLOW_TRACKING_URI if set, else the embedded SQLite store
    experiment: str = ""  # empty: the job's default experiment (inrzoo-conversions, inrzoo-<model>, ...)
    run_name: str = ""  # empty: a name the job derives ("convert thingi10k davies", "train inr2vec kicad")
    description: str = ""  # added to the run's generated description


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


def ui_url(uri: str, page: str) -> str | None:
    """The MLflow UI link to `page` ("experiments/1/runs/<id>", "models/<name>/versions/3") of the
    tracking server at `uri`, in the model-training view; None when `uri` is not a server."""
    if not uri.startswith(("http://", "https://")):
        return None
    from inrzoo.redact import redact_text

    return redact_text(f"{uri.rstrip('/')}/#/{page}?{MODEL_TRAINING_VIEW}")


def use_experiment(uri: str, name: str, description: str = "") -> str:
    """Point MLflow at `uri` and make `name` the active experiment (created as a model-development
    experiment with `description` if new); returns its id."""
    import mlflow

    mlflow.set_tracking_uri(uri)
    experiment = mlflow.get_experiment_by_name(name)
    if experiment is None:
        artifact_location = None
        if uri.startswith("sqlite:"):
            # Without a server, artifacts would land in ./mlruns of whatever directory runs the job.
            artifact_location = (state_dir() / "mlartifacts").as_uri()
        experiment_id = mlflow.create_experiment(name, artifact_location=artifact_location)
        tags = (mlflow.get_experiment(experiment_id).tags or {})
    else:
        experiment_id, tags = experiment.experiment_id, (experiment.tags or {})
    client = mlflow.MlflowClient(uri)
    if tags.get(EXPERIMENT_KIND_TAG) != MODEL_DEVELOPMENT:
        client.set_experiment_tag(experiment_id, EXPERIMENT_KIND_TAG, MODEL_DEVELOPMENT)
    if description and not tags.get(NOTE_TAG):
        client.set_experiment_tag(experiment_id, NOTE_TAG, description)
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


class TrackedRun:
    """The active MLflow run of a job, with the few things jobs log."""

    def __init__(self, run_id: str, uri: str, resumed: bool) -> None:
        self.run_id, self.tracking_uri, self.resumed = run_id, uri, resumed

    def log_params(self, data: Mapping[str, Any]) -> None:
        log_params(data)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        import mlflow

        mlflow.log_metrics({metric_name(k): float(v) for k, v in metrics.items()}, step=step)

    def log_artifacts(self, folder: str | Path, artifact_path: str | None = None) -> None:
        import mlflow

        mlflow.log_artifacts(str(folder), artifact_path=artifact_path)

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        import mlflow

        mlflow.log_artifact(str(path), artifact_path=artifact_path)

    def for_workers(self) -> dict[str, str]:
        """What a remote worker needs to log into this run by id (no active run there)."""
        return {"run_id": self.run_id, "tracking_uri": self.tracking_uri}


@contextlib.contextmanager
def tracked_run(cfg: TrackingConfig, *, experiment: str, name: str, kind: str, description: str = "",
                tags: Mapping[str, str] | None = None, resume_key: str = "",
                experiment_description: str = "") -> Iterator[TrackedRun | None]:
    """Open (or continue) the job's MLflow run; yields None when tracking is disabled.

    `experiment`/`name` are the job's defaults, which cfg.experiment / cfg.run_name override.
    With `resume_key`, an unfinished run of an earlier attempt with the same key is continued.
    """
    if not cfg.enabled:
        yield None
        return
    import mlflow

    uri = tracking_uri(cfg.tracking_uri)
    # MLflow's own end-of-run links open the GenAI view; ours (below) open the runs.
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    experiment_id = use_experiment(uri, cfg.experiment or experiment, experiment_description)
    previous = _unfinished_run(experiment_id, resume_key) if resume_key else None
    text = "\n\n".join(part for part in (description, cfg.description) if part)
    with mlflow.start_run(run_id=previous, run_name=None if previous else (cfg.run_name or name),
                          description=None if previous else (text or None)) as run:
        if previous:
            log.info("continuing MLflow run %s (%s)", previous, cfg.run_name or name)
        else:
            mlflow.set_tags({KIND_TAG: kind, **({RESUME_TAG: resume_key} if resume_key else {}), **(tags or {})})
        link = ui_url(uri, f"experiments/{experiment_id}/runs/{run.info.run_id}")
        if link:
            log.info("MLflow run %r: %s", run.info.run_name, link)
        yield TrackedRun(run.info.run_id, uri, resumed=previous is not None)


def _unfinished_run(experiment_id: str, resume_key: str) -> str | None:
    import mlflow

    runs = mlflow.search_runs(experiment_ids=[experiment_id], filter_string=f"tags.`{RESUME_TAG}` = '{resume_key}'",
                              output_format="list", order_by=["attributes.start_time DESC"])
    return next((r.info.run_id for r in runs if r.info.status != "FINISHED"), None)


def metric_name(name: str) -> str:
    """MLflow metric names allow no '@' (map@1 -> map_at_1)."""
    return name.replace("@", "_at_")


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


def log_params(data: Mapping[str, Any]) -> None:
    """Nested config data as params of the active run (flattened, in MLflow-sized batches)."""
    import mlflow

    from inrzoo.redact import redact

    items = list(flatten_params(redact(dict(data))).items())
    for start in range(0, len(items), 100):  # MLflow's batch limit
        mlflow.log_params(dict(items[start:start + 100]))


def log_dataset_input(uri: str, digest: str, name: str, context: str) -> None:
    """Record a weight dataset as an input of the active run (lineage: URI and digest)."""
    import mlflow
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.meta_dataset import MetaDataset

    from inrzoo.redact import redact_text

    uri = redact_text(uri)
    try:
        with warnings.catch_warnings():
            # MLflow 3 registers its local-file source class twice and then warns, for every
            # local path, that the path "can be interpreted in multiple ways" (both the same).
            warnings.filterwarnings("ignore", message="The specified dataset source can be interpreted")
            source = resolve_dataset_source(uri)
    except Exception:  # a URI scheme MLflow has no source type for: keep it as an HTTP-like URL
        from mlflow.data.http_dataset_source import HTTPDatasetSource

        source = HTTPDatasetSource(url=uri)
    mlflow.log_input(MetaDataset(source=source, name=name, digest=digest[:36]), context=context)
