"""Tasks as units: each downstream task is a class in the task registry with its own typed config
(defaults: the paper's), the model capabilities it needs, and a `run` that returns metrics and files.

    outcome = run_tasks(["classification", "retrieval"], TaskContext(model, data, cfg.tasks, out_dir))
    metrics = run_task_job("classification", cfg, "models:/inr2vec-kicad@champion")

Tasks run after training (the job's `evaluation.tasks`, whose metrics feed the registry gates)
or on their own (`jobs/tasks.py TASK`, `inrzoo task TASK`) on a trained or registered model.
"""

from __future__ import annotations

import abc
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch

from inrzoo import tracking
from inrzoo.zoo.core.data import DataSource, open_data
from inrzoo.zoo.core.job_config import TaskSettings, TrainJobConfig
from inrzoo.zoo.core.model import ZooModel
from inrzoo.zoo.core.registry import resolve

log = logging.getLogger(__name__)


@dataclass
class TaskContext:
    model: ZooModel
    data: DataSource
    settings: TaskSettings
    out_dir: Path
    device: str = "cpu"


@dataclass
class TaskOutcome:
    metrics: dict[str, float] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def add(self, other: "TaskOutcome") -> "TaskOutcome":
        clash = set(self.metrics) & set(other.metrics)
        if clash:
            raise ValueError(f"two tasks report the same metrics {sorted(clash)}")
        self.metrics.update(other.metrics)
        self.files.extend(other.files)
        return self


class Task(abc.ABC):
    name: ClassVar[str]
    config_class: ClassVar[type]
    requires: ClassVar[tuple[type, ...]] = ()  # protocols of inrzoo.zoo.core.model the model must satisfy
    data_kind: ClassVar[str] = "weights"

    @abc.abstractmethod
    def run(self, ctx: TaskContext, cfg: Any) -> TaskOutcome:
        """Run on ctx.model and ctx.data with this task's settings `cfg`; files go under ctx.out_dir."""

    @classmethod
    def check(cls, model: ZooModel) -> None:
        missing = [p.__name__ for p in cls.requires if not isinstance(model, p)]
        if missing:
            raise TypeError(f"task {cls.name!r} needs a model that is {' and '.join(missing)}; "
                            f"{model.name!r} is not")
        if cls.data_kind != model.data_kind:
            raise TypeError(f"task {cls.name!r} works on {cls.data_kind} data; {model.name!r} is trained on "
                            f"{model.data_kind} data")


def task_class(name: str) -> type[Task]:
    return resolve("task", name)


def run_tasks(names: list[str], ctx: TaskContext) -> TaskOutcome:
    """Run tasks in order on one model; every task is checked before the first one starts."""
    classes = [task_class(name) for name in names]
    for cls in classes:
        cls.check(ctx.model)
    outcome = TaskOutcome()
    for cls in classes:
        log.info("[%s] task %s", ctx.model.name, cls.name)
        outcome.add(cls().run(ctx, ctx.settings.get(cls.name)))
    return outcome


def load_any_model(source: str, **storage_options: Any) -> ZooModel:
    """A zoo model from the registry (`models:/NAME@ALIAS`, rebuilt from code: no pickle) or a
    model file URI (checkpoint.save_model; a training state's model.safetensors too)."""
    if source.startswith("models:/"):
        import mlflow

        return mlflow.pyfunc.load_model(source).unwrap_python_model().model.eval()
    from inrzoo.zoo.core.checkpoint import load_model

    return load_model(source, **storage_options)[0]


def run_task_job(name: str, cfg: TrainJobConfig, model_source: str, out_dir: str | Path | None = None) -> dict[str, float]:
    """One task on a trained model, on the data of the job config, as a tracked run."""
    torch.set_num_threads(max(1, cfg.scaling.torch_threads))
    model = load_any_model(model_source)
    cls = task_class(name)
    cls.check(model)
    data = open_data(model.data_kind, cfg.data)
    description = f"Task {name} of {model_source} on {cfg.data.uri}."
    with tracking.tracked_run(cfg.tracking, experiment=f"inrzoo-{model.name}", name=f"task {name} {model.name}",
                              kind=f"task-{name}", description=description,
                              tags={"inrzoo.model_source": model_source, "inrzoo.dataset": cfg.data.uri}) as run, \
            tempfile.TemporaryDirectory(prefix=f"zoo-task-{name}-") as tmp:
        files_dir = Path(out_dir or tmp)
        outcome = cls().run(TaskContext(model, data, cfg.tasks, files_dir), cfg.tasks.get(name))
        if run is not None:
            run.log_params({"task": name, "model_source": model_source, "settings": cfg.tasks.__config_to__().get(name, {})})
            run.log_metrics(outcome.metrics)
            for path in outcome.files:
                run.log_artifact(path, artifact_path=name)
    return outcome.metrics
