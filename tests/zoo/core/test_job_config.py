"""The one train-job config: the model section typed by the model's config class, task settings
typed by each task, unknown keys and names refused with the key named, stable run names."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from inrzoo import config as configlib
from inrzoo.registry import Gate
from inrzoo.zoo.core.job_config import load_job_config
from inrzoo.zoo.inr2vec import Inr2vecConfig
from inrzoo.zoo.tasks.classification import ClassificationSettings
from inrzoo.zoo.tasks.generation import GenerationSettings

CONFIGS = Path(__file__).resolve().parents[3] / "zoo" / "configs"
KICAD = str(CONFIGS / "inr2vec" / "kicad_default.yaml")


def test_a_zoo_config_loads_with_overrides():
    cfg = load_job_config(KICAD, ["data.uri=s3://b/k.zarr", "train.epochs=3", "model.encoder.embedding_dim=64"])
    assert cfg.model.name == "inr2vec" and isinstance(cfg.model.config, Inr2vecConfig)
    assert cfg.model.config.encoder.embedding_dim == 64 and cfg.model.config.encoder.hidden_dims == [512, 512, 1024, 1024]
    assert (cfg.train.optimizer.name, cfg.train.optimizer.lr, cfg.train.optimizer.weight_decay) == ("adamw", 1e-4, 1e-2)
    assert cfg.registry.alias == "champion" and cfg.registry.gates[0] == Gate("accuracy", ">=", 0.5)
    assert cfg.evaluation.tasks == ["classification", "retrieval", "reconstruction", "plots"]
    assert configlib.to_dict(cfg)["model"]["name"] == "inr2vec"  # the model section writes back as it was read


def test_run_names_ignore_the_epoch_budget_only():
    base = ["data.uri=s3://b/k.zarr"]
    name = load_job_config(KICAD, base).run_name()
    assert name.startswith("inr2vec_") and name == load_job_config(KICAD, [*base, "train.epochs=9"]).run_name()
    assert name != load_job_config(KICAD, ["data.uri=s3://b/other.zarr"]).run_name()
    assert name != load_job_config(KICAD, [*base, "model.loss=mse"]).run_name()


def test_task_settings_are_typed_per_task_with_the_papers_defaults():
    cfg = load_job_config(KICAD, ["data.uri=x", "tasks.generation.gan.epochs=7", "tasks.classification.batch_size=8"])
    assert isinstance(cfg.tasks.get("generation"), GenerationSettings) and cfg.tasks.get("generation").gan.epochs == 7
    assert cfg.tasks.get("classification").batch_size == 8
    assert cfg.tasks.get("segmentation").segmentation.epochs == 250  # not configured: the paper's default
    # One task's settings never change another's (no shared --epochs flag any more).
    assert cfg.tasks.get("transfer").transfer.epochs == 300
    assert isinstance(cfg.tasks.get("classification"), ClassificationSettings)


@pytest.mark.parametrize("override, message", [
    ("scaling.worker=2", "scaling.worker"),
    ("model.encoder.width=3", "model.encoder.width"),
    ("model.name=nosuchmodel", "unknown model 'nosuchmodel'"),
    ("tasks.nosuchtask.x=1", "unknown task 'nosuchtask'"),
    ("tasks.classification.classifier.depth=2", "tasks.classification.classifier.depth"),
    ("evaluation.tasks=[nosuchtask]", "unknown task 'nosuchtask'"),
])
def test_mistakes_are_refused_naming_the_key(override, message):
    with pytest.raises((configlib.ConfigError, KeyError), match=message):
        load_job_config(KICAD, ["data.uri=x", override])


def test_learning_rate_schedules_follow_the_epoch():
    from inrzoo.zoo.core.job_config import OptimizerConfig
    from inrzoo.zoo.core.loop import make_optimizer, set_epoch_lr

    cosine = OptimizerConfig(lr=1.0, schedule="cosine", warmup_epochs=2, min_lr_ratio=0.1)
    rates = [cosine.epoch_lr(epoch, 13) for epoch in range(13)]
    assert rates[:3] == [0.5, 1.0, 1.0]  # linear warm-up, then the cosine starts at lr
    assert rates[7] == pytest.approx(0.55)  # half way down: (1 + 0.1) / 2
    assert rates[-1] == pytest.approx(0.1) and all(a >= b for a, b in zip(rates[2:], rates[3:]))
    step = OptimizerConfig(lr=1.0, schedule="step", step_epochs=3, gamma=0.5)
    assert [step.epoch_lr(epoch, 9) for epoch in range(7)] == [1, 1, 1, 0.5, 0.5, 0.5, 0.25]
    assert OptimizerConfig(lr=0.3).epoch_lr(50, 10) == 0.3
    optimizer = make_optimizer(torch.nn.Linear(2, 2), cosine)
    assert set_epoch_lr(optimizer, cosine, 0, 13) == 0.5 and optimizer.param_groups[0]["lr"] == 0.5


def test_a_restart_gives_the_next_stage_a_whole_schedule():
    from inrzoo.zoo.core.job_config import OptimizerConfig

    restarted = OptimizerConfig(lr=1.0, schedule="cosine", warmup_epochs=2, min_lr_ratio=0.1, restarts=[13])
    plain = OptimizerConfig(lr=1.0, schedule="cosine", warmup_epochs=2, min_lr_ratio=0.1)
    rates = [restarted.epoch_lr(epoch, 20) for epoch in range(20)]
    assert rates[:13] == [plain.epoch_lr(epoch, 13) for epoch in range(13)]  # the first cycle ends at the restart
    assert rates[13:] == [plain.epoch_lr(epoch, 7) for epoch in range(7)]  # warm-up and decay again
    assert rates[12] == pytest.approx(0.1) and rates[14] == 1.0
    # a restart at or past the end changes nothing
    assert [OptimizerConfig(lr=1.0, schedule="cosine", restarts=[9]).epoch_lr(e, 9) for e in range(9)] == \
        [OptimizerConfig(lr=1.0, schedule="cosine").epoch_lr(e, 9) for e in range(9)]


@pytest.mark.parametrize("override, message", [
    ("train.optimizer.schedule=step", "step_epochs >= 1"),
    ("train.optimizer.min_lr_ratio=2", "min_lr_ratio in"),
    ("train.optimizer.schedule=linear", "train.optimizer.schedule"),
    ("train.optimizer.restarts=[0]", "restarts must be increasing"),
    ("train.optimizer.restarts=[5,3]", "restarts must be increasing"),
])
def test_bad_schedules_are_refused(override, message):
    with pytest.raises((configlib.ConfigError, ValueError), match=message):
        load_job_config(KICAD, ["data.uri=x", override])


@pytest.mark.parametrize("override", ["checkpoint.select=best", "checkpoint.select=min", "checkpoint.select=low:val_loss",
                                      "checkpoint.keep=0"])
def test_bad_checkpoint_selections_are_refused(override):
    with pytest.raises((configlib.ConfigError, ValueError), match=override.split("=")[0]):
        load_job_config(KICAD, ["data.uri=x", override])


def test_checkpoint_selection_names_a_direction_and_an_epoch_metric():
    assert load_job_config(KICAD, ["data.uri=x"]).checkpoint.selection() is None  # the last epoch's state
    cfg = load_job_config(KICAD, ["data.uri=x", "checkpoint.select=min:val_loss"])
    assert cfg.checkpoint.selection() == ("min", "val_loss")


def test_a_config_without_a_model_name_is_refused(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("data: {uri: x}\n")
    with pytest.raises(configlib.ConfigError, match="model.name is required"):
        load_job_config(str(path))


def test_every_shipped_zoo_config_loads():
    paths = sorted(CONFIGS.glob("*/*.yaml"))
    assert {p.parent.name for p in paths} >= {"inr2vec", "linear"}
    for path in paths:
        load_job_config(str(path), ["data.uri=x"] if "smoke" not in path.name else [])
