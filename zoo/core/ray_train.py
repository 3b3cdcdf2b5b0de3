"""Ray Train wiring for every zoo model: a TorchTrainer with N workers (DDP), data streamed per shard.

Each worker opens the data source itself and reads only its shard of the train split, batch by
batch, so no worker holds the data in memory. After every epoch rank 0 writes a training state
(checkpoint.py: safetensors, no pickle) that Ray uploads to `checkpoint.storage_path`, logs the
epoch's metrics into the job's MLflow run and logs a progress line. A run started again under
the same name (`TrainJobConfig.run_name()`) finds the checkpoint manager's snapshot in storage,
and training continues from the epoch after the last training state.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from typing import Any

import torch

from inrzoo import config as configlib
from inrzoo.ray_cluster import ensure_ray
from inrzoo.zoo.core.checkpoint import check_same_data, load_training_state, save_training_state
from inrzoo.zoo.core.data import open_data
from inrzoo.zoo.core.job_config import TrainJobConfig
from inrzoo.zoo.core.loop import LossesForward, evaluate_epoch, make_optimizer, set_epoch_lr, train_epoch, unwrap
from inrzoo.zoo.core.model import StepContext, ZooModel, model_class

log = logging.getLogger(__name__)


def build_model(cfg: TrainJobConfig, data: Any) -> ZooModel:
    cls = model_class(cfg.model.name)
    return cls(cfg.model.config, data.spec())


def train_loop_per_worker(loop_config: dict[str, Any]) -> None:
    """The Ray Train worker function; `loop_config` = {"config": resolved job config, "mlflow": {...}}."""
    import ray.train
    import ray.train.torch

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    quiet_ray_train_logs()
    cfg = configlib.from_dict(TrainJobConfig, loop_config["config"], source="train_loop_config")
    torch.set_num_threads(cfg.scaling.torch_threads)
    context = ray.train.get_context()
    rank, world = context.get_world_rank(), context.get_world_size()
    cls = model_class(cfg.model.name)
    data = open_data(cls.data_kind, cfg.data)
    device = ray.train.torch.get_device()
    torch.manual_seed(cfg.train.seed)  # the same initial weights on every worker and every attempt
    model = build_model(cfg, data).to(device)
    optimizer = make_optimizer(model, cfg.train.optimizer)

    start_epoch = 0
    checkpoint = ray.train.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as folder:
            check_same_data(folder, loop_config.get("checkpoint_extra") or {})
            start_epoch = load_training_state(folder, model, optimizer)
        if rank == 0:
            log.info("[%s] resumed from the training state of epoch %d", cfg.model.name, start_epoch)
    else:
        model.prepare(data)  # statistics of the training data; a resumed run has them in its state
    wrapped = model
    if world > 1:
        unused = {"find_unused_parameters": True} if not model.trains_every_parameter() else None
        wrapped = ray.train.torch.prepare_model(LossesForward(model), parallel_strategy_kwargs=unused)

    logger = EpochLogger(loop_config.get("mlflow") or {}) if rank == 0 else None
    sizes = data.split_sizes()
    epochs = cfg.train.epochs
    for epoch in range(start_epoch, epochs):
        started = time.monotonic()
        # Batch order and every draw of a step depend on (seed, epoch, rank) only: a resumed run
        # draws what an uninterrupted one would have drawn from that epoch on.
        generator = torch.Generator(device=device).manual_seed((cfg.train.seed * 100_003 + epoch) * 1009 + rank)
        step = StepContext(device, generator, epoch, True)
        batches = data.batches("train", cfg.train.batch_size, rank=rank, world=world, epoch=epoch,
                               seed=cfg.train.seed, shuffle=True, drop_last=True)
        lr = set_epoch_lr(optimizer, cfg.train.optimizer, epoch, epochs)
        stats = train_epoch(wrapped, batches, optimizer, step, cfg.train.max_steps_per_epoch)
        if not stats["steps"]:  # every rank has the same shard size, so all of them stop here
            raise ValueError(f"{cfg.data.uri}: no training batch in epoch {epoch + 1}: the train split has "
                             f"{sizes.get('train', 0)} rows for batch_size {cfg.train.batch_size} on {world} "
                             "worker(s) (full batches of at least 2 only)")
        metrics = {"epoch": epoch + 1, **{f"train_{k}": mean_over_workers(v, world, device)
                                          for k, v in stats.items() if k not in ("steps", "items")},
                   "steps": stats["steps"], "items": stats["items"] * world, "lr": lr,
                   "epoch_seconds": time.monotonic() - started}
        if rank == 0 and sizes.get("val", 0) >= 2:
            val = evaluate_epoch(unwrap(wrapped), data.batches("val", cfg.train.batch_size), step)
            metrics.update({f"val_{k}": v for k, v in val.items()})
        report_epoch(metrics, unwrap(wrapped), optimizer, rank, loop_config.get("checkpoint_extra", {}))
        if logger is not None:
            logger.log(metrics, epoch + 1)
            log.info("[%s] epoch %d/%d lr %.3g train_loss %.5f%s (%.1f s, %d worker(s))", cfg.model.name, epoch + 1,
                     epochs, lr, metrics["train_loss"], f" val_loss {metrics['val_loss']:.5f}" if "val_loss" in metrics else "",
                     metrics["epoch_seconds"], world)


def quiet_ray_train_logs() -> None:
    """Ray Train logs two INFO lines per reported epoch and worker (the report, the persisted
    checkpoint); our own epoch line says it once. Its warnings stay."""
    import ray.train  # noqa: F401  (registers Ray Train's loggers, some named by file path)

    for name in list(logging.root.manager.loggerDict):
        if name.startswith("ray.train") or "/ray/train/" in name:
            logging.getLogger(name).setLevel(logging.WARNING)


def mean_over_workers(value: float, world: int, device: torch.device) -> float:
    if world == 1:
        return float(value)
    import torch.distributed as dist

    tensor = torch.tensor([float(value)], device=device)
    dist.all_reduce(tensor)
    return float(tensor) / world


def report_epoch(metrics: dict[str, float], model: ZooModel, optimizer: torch.optim.Optimizer, rank: int,
                 extra: dict[str, Any]) -> None:
    """Every worker reports (Ray Train expects it); only rank 0 attaches the training state."""
    import ray.train

    with tempfile.TemporaryDirectory(prefix="zoo-state-") as folder:
        checkpoint = None
        if rank == 0:
            save_training_state(folder, model, optimizer, int(metrics["epoch"]), extra)
            checkpoint = ray.train.Checkpoint.from_directory(folder)
        ray.train.report(metrics, checkpoint=checkpoint)


class EpochLogger:
    """Rank 0's MLflow logging into the driver's run (by id: workers have no active run)."""

    def __init__(self, mlflow_cfg: dict[str, str]):
        self.run_id = mlflow_cfg.get("run_id", "")
        self.client = None
        if self.run_id:
            from mlflow import MlflowClient

            self.client = MlflowClient(tracking_uri=mlflow_cfg["tracking_uri"])

    def log(self, metrics: dict[str, float], step: int) -> None:
        if self.client is None:
            return
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self.client.log_batch(self.run_id, metrics=[Metric(k, float(v), now, step) for k, v in metrics.items()])


def run_config(cfg: TrainJobConfig):
    """RunConfig with the training-state store: a URI, or a path plus an S3FileSystem from storage_options."""
    import pyarrow.fs
    from ray.train import CheckpointConfig, FailureConfig, RunConfig

    from inrzoo.tracking import state_dir

    path = cfg.checkpoint.storage_path or str(state_dir() / "ray_results")
    filesystem = None
    if cfg.checkpoint.storage_options:
        if not path.startswith("s3://"):
            raise ValueError(f"checkpoint.storage_options are S3FileSystem keywords; {path!r} is not an s3:// URI")
        filesystem = pyarrow.fs.S3FileSystem(**cfg.checkpoint.storage_options)
        path = path[len("s3://"):]
    selection = cfg.checkpoint.selection()
    # With a selection Ray keeps the `keep` best states by that metric, and always the latest (resume).
    scoring = {} if selection is None else {"checkpoint_score_attribute": selection[1],
                                            "checkpoint_score_order": selection[0]}
    return RunConfig(name=cfg.run_name(), storage_path=path, storage_filesystem=filesystem,
                     checkpoint_config=CheckpointConfig(num_to_keep=cfg.checkpoint.keep, **scoring),
                     failure_config=FailureConfig(max_failures=cfg.checkpoint.max_failures))


def fit(cfg: TrainJobConfig, mlflow_cfg: dict[str, str] | None = None, checkpoint_extra: dict[str, Any] | None = None):
    """Run (or resume) the TorchTrainer; returns Ray's Result (result.checkpoint: the last epoch)."""
    from ray.train import ScalingConfig
    from ray.train.torch import TorchTrainer

    os.environ.setdefault("RAY_TRAIN_ENABLE_V2_MIGRATION_WARNINGS", "0")
    # Before the trainer would: it would take RAY_ADDRESS as is, and infra/local/up exports the
    # job API URL there (inrzoo.ray_cluster).
    ensure_ray(object_store_memory=None, max_cpus=None)
    trainer = TorchTrainer(
        train_loop_per_worker,
        train_loop_config={"config": configlib.to_dict(cfg), "mlflow": mlflow_cfg or {},
                           "checkpoint_extra": checkpoint_extra or {}},
        scaling_config=ScalingConfig(num_workers=cfg.scaling.workers, use_gpu=cfg.scaling.use_gpu,
                                     resources_per_worker={"CPU": cfg.scaling.cpus_per_worker}),
        run_config=run_config(cfg),
    )
    return trainer.fit()
