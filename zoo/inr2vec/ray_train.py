"""inr2vec training on Ray Train: a TorchTrainer with N workers (DDP), data streamed from Zarr.

Each worker opens the weight dataset itself and reads only its shard of the train rows, batch
by batch (`WeightDataset.loader`), so no worker ever holds the dataset in memory. After every
epoch, rank 0 writes a checkpoint folder (train_state.py: safetensors, no pickle) that Ray
uploads to `checkpoint.storage_path`, logs the epoch's metrics to MLflow and prints a progress
line. A run started again under the same name (`Inr2vecJobConfig.run_name()`) finds the
checkpoint manager's snapshot in storage and `ray.train.get_checkpoint()` hands back the last
checkpoint, so training continues from the epoch after it.
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any

import torch

from inrzoo import config as configlib
from inrzoo.store import open_weights
from inrzoo.zoo.inr2vec.job_config import Inr2vecJobConfig
from inrzoo.zoo.inr2vec.model import Inr2vec, make_optimizer
from inrzoo.zoo.inr2vec.splits import shard, split_views
from inrzoo.zoo.inr2vec.train import evaluate_epoch, train_epoch, unwrap
from inrzoo.zoo.inr2vec.train_state import load_training_state, save_training_state


def train_loop_per_worker(loop_config: dict[str, Any]) -> None:
    """The Ray Train worker function; `loop_config` = {"config": resolved job config, "mlflow": {...}}."""
    import ray.train
    import ray.train.torch

    cfg = configlib.from_dict(Inr2vecJobConfig, loop_config["config"], source="train_loop_config")
    torch.set_num_threads(cfg.scaling.torch_threads)
    context = ray.train.get_context()
    rank, world = context.get_world_rank(), context.get_world_size()
    dataset = open_weights(cfg.dataset.uri, cfg.dataset.storage_options)
    views = split_views(dataset, cfg.dataset)
    train_rows = shard(views["train"], rank, world)
    val_rows = views["val"] if rank == 0 and len(views["val"]) >= 2 else None
    arch = dataset.architecture()
    device = ray.train.torch.get_device()
    model = Inr2vec(arch.param_shapes(), cfg.model).to(device)
    optimizer = make_optimizer(model, cfg.model.optimizer.lr, cfg.model.optimizer.weight_decay)

    start_epoch = 0
    checkpoint = ray.train.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as folder:
            start_epoch = load_training_state(folder, model, optimizer)
        if rank == 0:
            print(f"[inr2vec] resumed from the checkpoint of epoch {start_epoch}", flush=True)
    ddp_model = ray.train.torch.prepare_model(model) if world > 1 else model

    logger = EpochLogger(loop_config.get("mlflow") or {}) if rank == 0 else None
    epochs = cfg.model.epochs
    for epoch in range(start_epoch, epochs):
        started = time.monotonic()
        # Batch order and query draws depend on (seed, epoch, rank) only: a resumed run draws
        # what an uninterrupted one would have drawn from that epoch on.
        order = torch.Generator().manual_seed(cfg.model.seed * 100_003 + epoch)
        queries = torch.Generator(device=device).manual_seed((cfg.model.seed * 100_003 + epoch) * 1009 + rank)
        loader = train_rows.loader(cfg.model.batch_size, shuffle=True, drop_last=True, generator=order)
        stats = train_epoch(ddp_model, loader, optimizer, arch.forward, device=device, generator=queries,
                            max_steps=cfg.max_steps_per_epoch or None)
        metrics = {"epoch": epoch + 1, "train_loss": mean_over_workers(stats["loss"], world, device),
                   "steps": stats["steps"], "inrs": stats["inrs"] * world,
                   "epoch_seconds": time.monotonic() - started}
        if val_rows is not None:
            metrics["val_loss"] = evaluate_epoch(unwrap(ddp_model), val_rows.loader(cfg.model.batch_size),
                                                 arch.forward, device=device)["loss"]
        report_epoch(metrics, unwrap(ddp_model), optimizer, rank, loop_config.get("checkpoint_extra", {}))
        if logger is not None:
            logger.log(metrics, epoch + 1)
            print(f"[inr2vec] epoch {epoch + 1}/{epochs} train_loss {metrics['train_loss']:.5f}"
                  + (f" val_loss {metrics['val_loss']:.5f}" if "val_loss" in metrics else "")
                  + f" ({metrics['epoch_seconds']:.1f} s, {world} worker(s))", flush=True)


def mean_over_workers(value: float, world: int, device: torch.device) -> float:
    if world == 1:
        return float(value)
    import torch.distributed as dist

    tensor = torch.tensor([float(value)], device=device)
    dist.all_reduce(tensor)
    return float(tensor) / world


def report_epoch(metrics: dict[str, float], model: Inr2vec, optimizer: torch.optim.Optimizer, rank: int,
                 extra: dict[str, Any]) -> None:
    """Every worker reports (Ray Train expects it); only rank 0 attaches the checkpoint."""
    import ray.train

    with tempfile.TemporaryDirectory(prefix="inr2vec-ckpt-") as folder:
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


def run_config(cfg: Inr2vecJobConfig):
    """RunConfig with the checkpoint store: a URI, or a path plus an S3FileSystem from storage_options."""
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
    return RunConfig(name=cfg.run_name(), storage_path=path, storage_filesystem=filesystem,
                     checkpoint_config=CheckpointConfig(num_to_keep=cfg.checkpoint.keep),
                     failure_config=FailureConfig(max_failures=cfg.checkpoint.max_failures))


def fit(cfg: Inr2vecJobConfig, mlflow_cfg: dict[str, str] | None = None,
        checkpoint_extra: dict[str, Any] | None = None):
    """Run (or resume) the TorchTrainer; returns Ray's Result (result.checkpoint: the last epoch)."""
    from ray.train import ScalingConfig
    from ray.train.torch import TorchTrainer

    resources = {"CPU": cfg.scaling.cpus_per_worker}
    trainer = TorchTrainer(
        train_loop_per_worker,
        train_loop_config={"config": configlib.to_dict(cfg), "mlflow": mlflow_cfg or {},
                           "checkpoint_extra": checkpoint_extra or {}},
        scaling_config=ScalingConfig(num_workers=cfg.scaling.workers, use_gpu=cfg.scaling.use_gpu,
                                     resources_per_worker=resources),
        run_config=run_config(cfg),
    )
    os.environ.setdefault("RAY_TRAIN_ENABLE_V2_MIGRATION_WARNINGS", "0")
    return trainer.fit()
