"""The training job of any zoo model: tracked run, Ray Train fit (or resume), evaluation tasks,
gated registration.

    from inrzoo.zoo.core import load_job_config, run_training_job
    summary = run_training_job(load_job_config("zoo/configs/inr2vec/kicad_default.yaml"))

The MLflow run carries the checkpoint run name as its resume key: a resubmitted job that resumes
training from its last training state also continues the same MLflow run (epoch metrics go on).
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inrzoo import config as configlib
from inrzoo import tracking
from inrzoo.logs import show_progress
from inrzoo.redact import install_log_redaction, redact_text
from inrzoo.zoo.core import ray_train
from inrzoo.zoo.core.checkpoint import load_training_state
from inrzoo.zoo.core.data import DataSource, open_data
from inrzoo.zoo.core.job_config import TrainJobConfig
from inrzoo.zoo.core.model import ZooModel, model_class
from inrzoo.zoo.core.registering import Registration, register_model
from inrzoo.zoo.core.tasks import TaskContext, run_tasks

log = logging.getLogger(__name__)


@dataclass
class TrainingSummary:
    run_name: str
    epochs: int  # epochs trained
    metrics: dict[str, float]
    artifacts: list[str] = field(default_factory=list)
    mlflow_run_id: str = ""
    registration: Registration | None = None
    selected_epoch: int = 0  # the epoch whose training state was evaluated and registered (checkpoint.select)


def selected_state(result: Any, cfg: TrainJobConfig) -> tuple[Any, dict[str, Any]]:
    """(checkpoint, its epoch metrics): the last training state, or with `checkpoint.select` the
    kept state with the lowest (min) or highest (max) value of its metric."""
    if result.checkpoint is None:
        raise RuntimeError(f"training run {cfg.run_name()} ended without a training state (error: {result.error})")
    selection = cfg.checkpoint.selection()
    if selection is None:
        return result.checkpoint, dict(result.metrics or {})
    mode, metric = selection
    scored = [(checkpoint, metrics) for checkpoint, metrics in result.best_checkpoints or [] if metric in metrics]
    if not scored:
        raise RuntimeError(f"training run {cfg.run_name()}: no kept training state reports {metric} "
                           f"(checkpoint.select {cfg.checkpoint.select})")
    pick = min if mode == "min" else max
    return pick(scored, key=lambda item: float(item[1][metric]))


def model_from_result(result: Any, data: DataSource, cfg: TrainJobConfig) -> tuple[ZooModel, int]:
    """The trained model from the selected training state (`selected_state`); returns (model, its epoch)."""
    checkpoint, metrics = selected_state(result, cfg)
    model = model_class(cfg.model.name)(cfg.model.config, data.spec())
    with checkpoint.as_directory() as folder:
        epoch = load_training_state(folder, model)
    selection = cfg.checkpoint.selection()
    if selection is not None:
        metric = selection[1]
        log.info("[%s] evaluating the training state of epoch %d (%s %.5f; checkpoint.select %s)", cfg.model.name,
                 epoch, metric, float(metrics[metric]), cfg.checkpoint.select)
    return model.eval(), epoch


def check_selection(cfg: TrainJobConfig, data: DataSource) -> None:
    """A validation metric needs the validation pass, which runs on a val split of 2 rows or more."""
    selection = cfg.checkpoint.selection()
    if selection is not None and selection[1].startswith("val_") and data.split_sizes().get("val", 0) < 2:
        raise ValueError(f"checkpoint.select {cfg.checkpoint.select}: {redact_text(cfg.data.uri)} has "
                         f"{data.split_sizes().get('val', 0)} val rows; validation metrics need at least 2")


def run_training_job(cfg: TrainJobConfig, out_dir: str | Path | None = None) -> TrainingSummary:
    show_progress()
    install_log_redaction()
    cls = model_class(cfg.model.name)
    data = open_data(cls.data_kind, cfg.data)
    check_selection(cfg, data)
    digest = data.digest()
    name = cfg.run_name()
    log.info("[%s] %s; run %s on %d worker(s)", cfg.model.name, data.describe(), name, cfg.scaling.workers)
    dataset = redact_text(cfg.data.uri)  # outputs never carry credentials (inrzoo.redact)
    description = (f"Training of the zoo model {cfg.model.name} on {dataset} "
                   f"({cfg.train.epochs} epochs, batch {cfg.train.batch_size}, {cfg.scaling.workers} worker(s)).")
    tags = {"inrzoo.model": cfg.model.name, "inrzoo.dataset": dataset, "inrzoo.dataset_digest": digest,
            "inrzoo.train_name": name}
    with tracking.tracked_run(cfg.tracking, experiment=f"inrzoo-{cfg.model.name}",
                              name=f"train {cfg.model.name} {data.name()}", kind="training", description=description,
                              tags=tags, resume_key=name,
                              experiment_description=f"Training runs of the zoo model {cfg.model.name}.") as run, \
            tempfile.TemporaryDirectory(prefix="zoo-eval-") as tmp:
        if run is not None and not run.resumed:
            run.log_params(configlib.to_dict(cfg))
            tracking.log_dataset_input(cfg.data.uri, digest, name=data.name(), context="training")
        extra = {"dataset": dataset, "dataset_digest": digest, "run_name": name}
        result = ray_train.fit(cfg, run.for_workers() if run is not None else None, checkpoint_extra=extra)
        model, state_epoch = model_from_result(result, data, cfg)
        epochs = int((result.metrics or {}).get("epoch", state_epoch))
        files_dir = Path(out_dir) if out_dir is not None else Path(tmp)
        outcome = run_tasks(cfg.evaluation.tasks, TaskContext(model, data, cfg.tasks, files_dir))
        if outcome.metrics:
            log.info("[%s] evaluation: %s", cfg.model.name,
                     ", ".join(f"{k} {v:.4f}" for k, v in sorted(outcome.metrics.items())))
        summary = TrainingSummary(name, epochs, outcome.metrics, [str(p) for p in outcome.files],
                                  selected_epoch=state_epoch)
        if run is not None:
            summary.mlflow_run_id = run.run_id
            run.log_metrics({**{f"eval_{k}": v for k, v in outcome.metrics.items()}, "eval_state_epoch": state_epoch})
            for path in outcome.files:
                run.log_artifact(path, artifact_path="evaluation")
            if cfg.registry.model_name:
                summary.registration = register_model(model, data, cfg.registry, outcome.metrics, extra)
                log.info("[%s] registered %s version %s: %s (%s)", cfg.model.name, summary.registration.name,
                         summary.registration.version,
                         f"alias {cfg.registry.alias} set" if summary.registration.promoted else "no alias",
                         summary.registration.gates)
    return summary
