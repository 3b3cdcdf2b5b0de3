"""The inr2vec training job: Ray Train fit (or resume), evaluation, MLflow run, gated registration.

    from inrzoo.zoo.inr2vec.jobs import run_training_job
    summary = run_training_job(load_job_config("zoo/configs/inr2vec/kicad_default.yaml"))

The MLflow run is tagged with the checkpoint run name: a resubmitted job that resumes the
training from its last checkpoint also continues the same MLflow run (epoch metrics go on).
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inrzoo import config as configlib
from inrzoo import tracking
from inrzoo.store import FORMAT_VERSION, open_weights
from inrzoo.zoo.inr2vec import ray_train
from inrzoo.zoo.inr2vec.downstream import evaluate_model
from inrzoo.zoo.inr2vec.job_config import Inr2vecJobConfig
from inrzoo.zoo.inr2vec.model import Inr2vec
from inrzoo.zoo.inr2vec.registering import Registration, register_encoder
from inrzoo.zoo.inr2vec.splits import digest, split_views
from inrzoo.zoo.inr2vec.train_state import load_training_state

RUN_TAG = "inrzoo.train_name"


@dataclass
class TrainingSummary:
    run_name: str
    epochs: int
    metrics: dict[str, float]
    artifacts: list[str] = field(default_factory=list)
    mlflow_run_id: str = ""
    registration: Registration | None = None


def model_from_result(result: Any, dataset: Any, cfg: Inr2vecJobConfig) -> tuple[Inr2vec, int]:
    """The trained model from the result's last checkpoint; returns (model, epochs trained)."""
    if result.checkpoint is None:
        raise RuntimeError(f"training run {cfg.run_name()} ended without a checkpoint (error: {result.error})")
    model = Inr2vec(dataset.architecture().param_shapes(), cfg.model)
    with result.checkpoint.as_directory() as folder:
        epoch = load_training_state(folder, model)
    return model.eval(), epoch


def resumable_run_id(experiment_id: str, name: str) -> str | None:
    """The unfinished MLflow run of an earlier attempt at the same training, if any."""
    import mlflow

    runs = mlflow.search_runs(experiment_ids=[experiment_id], filter_string=f"tags.`{RUN_TAG}` = '{name}'",
                              output_format="list", order_by=["attributes.start_time DESC"])
    return next((r.info.run_id for r in runs if r.info.status != "FINISHED"), None)


@contextlib.contextmanager
def tracked_run(cfg: Inr2vecJobConfig, dataset_digest: str):
    """The MLflow run to log into (a resumed one when an earlier attempt did not finish), or None."""
    if not cfg.tracking.enabled:
        yield None
        return
    import mlflow

    uri = tracking.tracking_uri(cfg.tracking.tracking_uri)
    experiment_id = tracking.use_experiment(uri, cfg.tracking.experiment)
    name = cfg.run_name()
    previous = resumable_run_id(experiment_id, name)
    with mlflow.start_run(run_id=previous, run_name=None if previous else (cfg.tracking.run_name or name)) as run:
        if previous is None:
            tracking.log_params(configlib.to_dict(cfg))
            mlflow.set_tags({RUN_TAG: name, "inrzoo.kind": "training", "inrzoo.model": "inr2vec",
                             "inrzoo.dataset": cfg.dataset.uri, "inrzoo.dataset_digest": dataset_digest})
            tracking.log_dataset_input(cfg.dataset.uri, dataset_digest, name=Path(cfg.dataset.uri.rstrip("/")).name,
                                       context="training")
        else:
            print(f"[inr2vec] continuing MLflow run {previous}", flush=True)
        yield {"run_id": run.info.run_id, "tracking_uri": uri}


def check_teacher(dataset: Any, cfg: Inr2vecJobConfig) -> None:
    """The teacher must read the INRs through the loss they were fitted with (dataset config)."""
    fitted = ((dataset.attrs.get("config") or {}).get("fit") or {}).get("loss") or {}
    if fitted.get("name") and fitted["name"] != cfg.model.teacher.inr_loss:
        raise ValueError(f"{dataset.uri}: INRs were fitted with loss {fitted['name']!r} but "
                         f"model.teacher.inr_loss is {cfg.model.teacher.inr_loss!r}")


def run_training_job(cfg: Inr2vecJobConfig, out_dir: str | Path | None = None) -> TrainingSummary:
    dataset = open_weights(cfg.dataset.uri, cfg.dataset.storage_options)
    check_teacher(dataset, cfg)
    views = split_views(dataset, cfg.dataset)
    dataset_digest = digest(dataset)
    print(f"[inr2vec] {dataset.uri}: train {len(views['train'])}, val {len(views['val'])}, test {len(views['test'])} "
          f"INRs; run {cfg.run_name()} on {cfg.scaling.workers} worker(s)", flush=True)
    arch_json = dataset.arch_spec().to_json()
    with tracked_run(cfg, dataset_digest) as mlflow_cfg, tempfile.TemporaryDirectory(prefix="inr2vec-eval-") as tmp:
        result = ray_train.fit(cfg, mlflow_cfg, checkpoint_extra={"arch": arch_json, "dataset": cfg.dataset.uri})
        model, epochs = model_from_result(result, dataset, cfg)
        plots_dir = Path(out_dir) if out_dir is not None else Path(tmp)
        metrics, pngs = evaluate_model(model, views, cfg.evaluation, plots_dir)
        print("[inr2vec] evaluation: " + ", ".join(f"{k} {v:.4f}" for k, v in sorted(metrics.items())), flush=True)
        summary = TrainingSummary(cfg.run_name(), epochs, metrics, [str(p) for p in pngs])
        if mlflow_cfg is not None:
            summary.mlflow_run_id = mlflow_cfg["run_id"]
            example_rows = views["test"] if len(views["test"]) else views["train"]
            version = str(dataset.attrs.get("format_version", FORMAT_VERSION))
            summary.registration = log_outcome(model, example_rows, cfg, metrics, pngs, arch_json, dataset_digest,
                                               version)
    return summary


def mlflow_name(name: str) -> str:
    """MLflow metric names allow no '@' (map@1 -> map_at_1)."""
    return name.replace("@", "_at_")


def log_outcome(model: Inr2vec, example_rows: Any, cfg: Inr2vecJobConfig, metrics: dict[str, float],
                pngs: list[Path], arch_json: str, dataset_digest: str, format_version: str) -> Registration | None:
    """Evaluation metrics and PNGs into the active run; the encoder into the registry (gated)."""
    import mlflow

    logged = {mlflow_name(f"eval_{k}"): float(v) for k, v in metrics.items()}
    mlflow.log_metrics(logged)
    for png in pngs:
        mlflow.log_artifact(str(png), artifact_path="plots")
    if not cfg.registry.model_name:
        return None
    example = next(iter(example_rows.loader(2, flat=True)))["flat"].numpy()
    # Gates may name a metric as the evaluation returns it (map@1) or as MLflow shows it (eval_map_at_1).
    registration = register_encoder(model, example, cfg.registry, {**metrics, **logged}, arch_json=arch_json,
                                    dataset_uri=cfg.dataset.uri, dataset_digest=dataset_digest,
                                    format_version=format_version)
    print(f"[inr2vec] registered {registration.name} version {registration.version}: "
          f"{cfg.registry.alias + ' set' if registration.promoted else 'no alias'} ({registration.gates})", flush=True)
    return registration
