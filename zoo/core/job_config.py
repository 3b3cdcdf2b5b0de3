"""The one config of a zoo training job (zoo/configs/<model>/<dataset>_<variant>.yaml).

    model:      {name: inr2vec, <the model's own fields>}   typed by the model's config_class
    data:       where the data lives and how it is split (inrzoo.zoo.core.data.DataSection)
    train:      epochs, batch size, seed, optimizer and its learning-rate schedule
    scaling:    Ray Train workers, GPU, threads
    checkpoint: where training state goes (resumable), how many are kept
    tracking:   MLflow (inrzoo.tracking.TrackingConfig)
    evaluation: the tasks run after training (their metrics feed the registry's gates)
    tasks:      {<task name>: <that task's settings>} typed by each task's config_class
    registry:   the registered name, alias and gates

Load it with `load_job_config(path, overrides)`; unknown keys anywhere are errors.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from inrzoo import config as configlib
from inrzoo.registry import RegistryConfig
from inrzoo.tracking import TrackingConfig
from inrzoo.zoo.core.data import DataSection
from inrzoo.zoo.core.registry import names, resolve


@dataclass
class ModelSection:
    """`{name: <registered model>, ...fields of its config}`; `config` is the typed model config."""

    name: str = ""
    config: Any = None

    @classmethod
    def __config_from__(cls, value: Any, path: str, source: str) -> "ModelSection":
        if isinstance(value, cls):
            return value
        if not isinstance(value, dict) or not value.get("name"):
            raise configlib.ConfigError(f"{source}: key {path!r} needs a model name (known: {', '.join(names('model'))})")
        from inrzoo.zoo.core.model import model_class

        try:
            model = model_class(str(value["name"]))
        except KeyError as exc:
            raise configlib.ConfigError(f"{source}: key '{path}.name': {exc}") from exc
        fields = {k: v for k, v in value.items() if k != "name"}
        return cls(str(value["name"]), configlib.convert(model.config_class, fields, path, source))

    def __config_to__(self) -> dict[str, Any]:
        return {"name": self.name, **(configlib.to_dict(self.config) or {})}


@dataclass
class TaskSettings:
    """`{<task name>: <its settings>}`; a task not listed runs with its own defaults (the paper's)."""

    by_task: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def __config_from__(cls, value: Any, path: str, source: str) -> "TaskSettings":
        if isinstance(value, cls):
            return value
        if not isinstance(value, dict):
            raise configlib.ConfigError(f"{source}: key {path!r} must map task names to their settings")
        settings = {}
        for name, item in value.items():
            try:
                task = resolve("task", str(name))
            except KeyError as exc:
                raise configlib.ConfigError(f"{source}: key '{path}.{name}': {exc}") from exc
            settings[str(name)] = configlib.convert(task.config_class, item or {}, f"{path}.{name}", source)
        return cls(settings)

    def __config_to__(self) -> dict[str, Any]:
        return {name: configlib.to_dict(value) for name, value in self.by_task.items()}

    def get(self, name: str) -> Any:
        """The settings of task `name`: as configured, else the task's defaults."""
        return self.by_task[name] if name in self.by_task else resolve("task", name).config_class()


@dataclass
class OptimizerConfig:
    """The optimizer of a zoo training run (INR fitting's per-shape Adam is inrzoo.fit.AdamConfig)."""

    name: Literal["adam", "adamw"] = "adamw"
    lr: float = 1e-4
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    # The rate per epoch (inrzoo's choice; each model's config names what its paper used):
    # "constant"; "cosine" from lr down to lr * min_lr_ratio in the last epoch; "step": lr times
    # gamma every step_epochs. Any of them after warmup_epochs of linear warm-up from lr / warmup.
    # A function of the epoch alone, so a resumed run trains at the rate an uninterrupted one had.
    schedule: Literal["constant", "cosine", "step"] = "constant"
    warmup_epochs: int = 0
    min_lr_ratio: float = 0.0
    step_epochs: int = 0
    gamma: float = 0.1
    # Epochs where the schedule starts over, warm-up included, and runs to the next restart or the
    # end (warm restarts, Loshchilov & Hutter's SGDR, at epochs given rather than a period): a model
    # that trains its parts in stages gives each stage a whole schedule.
    restarts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.lr <= 0 or self.warmup_epochs < 0 or not 0.0 <= self.min_lr_ratio <= 1.0 or not 0.0 < self.gamma <= 1.0:
            raise ValueError("optimizer: lr must be > 0, warmup_epochs >= 0, min_lr_ratio in [0, 1] and gamma in "
                             f"(0, 1], got {self.lr}, {self.warmup_epochs}, {self.min_lr_ratio}, {self.gamma}")
        if self.schedule == "step" and self.step_epochs < 1:
            raise ValueError(f"optimizer.schedule 'step' needs step_epochs >= 1, got {self.step_epochs}")
        if any(r < 1 for r in self.restarts) or list(self.restarts) != sorted(set(self.restarts)):
            raise ValueError(f"optimizer.restarts must be increasing epochs >= 1, got {self.restarts}")

    def epoch_lr(self, epoch: int, epochs: int) -> float:
        """The learning rate of 0-based `epoch` of a run of `epochs`."""
        starts = [0, *(r for r in self.restarts if r < epochs)]
        start = max(s for s in starts if s <= epoch)
        end = min([s for s in starts if s > epoch] + [epochs])
        return self._cycle_lr(epoch - start, end - start)

    def _cycle_lr(self, epoch: int, epochs: int) -> float:
        if epoch < self.warmup_epochs:
            return self.lr * (epoch + 1) / self.warmup_epochs
        done = epoch - self.warmup_epochs
        if self.schedule == "cosine":
            span = max(epochs - self.warmup_epochs - 1, 1)
            ratio = self.min_lr_ratio + (1 - self.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(done / span, 1.0)))
            return self.lr * ratio
        if self.schedule == "step":
            return self.lr * self.gamma ** (done // self.step_epochs)
        return self.lr


@dataclass
class TrainSection:
    epochs: int = 10
    batch_size: int = 16
    seed: int = 0  # batch order and every random draw of a step derive from (seed, epoch, rank)
    max_steps_per_epoch: int = 0  # 0: the whole train shard every epoch
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)

    def __post_init__(self) -> None:
        if self.epochs < 0 or self.batch_size < 1:
            raise ValueError(f"train.epochs must be >= 0 and train.batch_size >= 1, got {self.epochs}, {self.batch_size}")


@dataclass
class ScalingSection:
    workers: int = 1  # Ray Train workers (DDP when > 1)
    use_gpu: bool = False
    cpus_per_worker: float = 1.0
    torch_threads: int = 1  # intra-op threads per worker (small batches: more threads only wait)

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"scaling.workers must be >= 1, got {self.workers}")


@dataclass
class CheckpointSection:
    # Any pyarrow filesystem URI: a local path, s3://bucket/prefix (credentials from AWS_* and
    # `storage_options`, e.g. {endpoint_override: 127.0.0.1:8333, scheme: http}). Empty: the
    # state directory (INRZOO_STATE_DIR/ray_results).
    storage_path: str = ""
    storage_options: dict[str, Any] = field(default_factory=dict)  # pyarrow.fs.S3FileSystem keywords
    name: str = ""  # the run's folder; empty: derived from data, model and train config (resumable)
    keep: int = 2  # training states kept (with `select`, the best ones; the latest is kept as well)
    max_failures: int = 0  # worker failures Ray Train retries from the last training state
    # Which training state is evaluated and registered: "" the last epoch's; "min:val_loss" (or
    # "max:<metric>") the epoch with the lowest (highest) value of an epoch metric, e.g. to stop a
    # model that overfits at its best validation loss. Training still runs every epoch and resumes
    # from the latest state.
    select: str = ""

    def __post_init__(self) -> None:
        if self.keep < 1:
            raise ValueError(f"checkpoint.keep must be >= 1, got {self.keep}")
        mode, metric = self.selection() or ("min", "-")
        if mode not in ("min", "max") or not metric:
            raise ValueError(f"checkpoint.select must be '', 'min:<metric>' or 'max:<metric>', got {self.select!r}")

    def selection(self) -> tuple[str, str] | None:
        """(mode, metric) of `select`, None for the last epoch's state."""
        if not self.select:
            return None
        mode, _, metric = self.select.partition(":")
        return mode, metric


@dataclass
class EvaluationSection:
    tasks: list[str] = field(default_factory=list)  # run on the trained model; their metrics feed the gates


@dataclass
class TrainJobConfig:
    model: ModelSection = field(default_factory=ModelSection)
    data: DataSection = field(default_factory=DataSection)
    train: TrainSection = field(default_factory=TrainSection)
    scaling: ScalingSection = field(default_factory=ScalingSection)
    checkpoint: CheckpointSection = field(default_factory=CheckpointSection)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    evaluation: EvaluationSection = field(default_factory=EvaluationSection)
    tasks: TaskSettings = field(default_factory=TaskSettings)
    registry: RegistryConfig = field(default_factory=RegistryConfig)

    def run_name(self) -> str:
        """The checkpoint folder: stable for one data source, model and training setup, so a
        resubmitted job resumes (the epoch count is left out: raising it continues a finished run)."""
        if self.checkpoint.name:
            return self.checkpoint.name
        train = {k: v for k, v in configlib.to_dict(self.train).items() if k != "epochs"}
        key = json.dumps({"data": self.data.uri, "options": self.data.options, "model": configlib.to_dict(self.model),
                          "train": train}, sort_keys=True)
        return f"{self.model.name}_{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def load_job_config(path: str | None, overrides: list[str] | tuple[str, ...] = ()) -> TrainJobConfig:
    cfg = configlib.load(TrainJobConfig, path, overrides)
    # Ray Train workers run elsewhere: a relative local path is fixed to the caller's directory.
    if cfg.data.uri and "://" not in cfg.data.uri and not Path(cfg.data.uri).is_absolute():
        cfg.data.uri = str(Path(cfg.data.uri).resolve())
    if not cfg.model.name:
        raise configlib.ConfigError(f"{path or '<defaults>'}: model.name is required (known: {', '.join(names('model'))})")
    for task in cfg.evaluation.tasks:
        resolve("task", task)  # an unknown task name fails here, before any training
    return cfg
