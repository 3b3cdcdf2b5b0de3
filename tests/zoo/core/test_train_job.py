"""The training job of the zoo core on a local Ray: a TorchTrainer with 2 workers (DDP) trains,
writes training states, evaluates with tasks, resumes with a larger epoch budget; the tasks job
runs a task on a saved model file in its own process."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from inr2vec_helpers import adamw, tiny_config, train_on, weight_data, write_dataset
from inrzoo import config as configlib
from inrzoo.zoo.core.checkpoint import save_model
from inrzoo.zoo.core.job_config import TrainJobConfig

REPO = Path(__file__).resolve().parents[3]


def job_config(uri: str, tmp_path: Path, **sections) -> TrainJobConfig:
    data = {"model": {"name": "inr2vec", **configlib.to_dict(tiny_config())},
            "data": {"uri": uri, "split": {"test_fraction": 0.25}},
            "train": {"epochs": 2, "batch_size": 4},
            "checkpoint": {"storage_path": str(tmp_path / "ckpt")},
            "evaluation": {"tasks": ["classification", "retrieval", "reconstruction", "plots"]},
            "tasks": {"classification": {"classifier": {"layers_dim": [16, 16, 8], "epochs": 20, "batch_size": 8}},
                      "reconstruction": {"shapes": 1, "mesh_resolution": 16, "chamfer_points": 256},
                      "plots": {"mesh_resolution": 16}},
            "tracking": {"enabled": False}}
    for key, value in sections.items():
        data.setdefault(key, {}).update(value)
    return configlib.from_dict(TrainJobConfig, data)


@pytest.mark.slow
def test_torch_trainer_trains_checkpoints_and_resumes(local_ray, siren_families, tmp_path, capfd):
    from inrzoo.zoo.core.job import run_training_job

    arch, params, labels = siren_families(6)
    ds = write_dataset(str(tmp_path / "d.zarr"), arch, params, labels, copies=1)
    cfg = job_config(ds.uri, tmp_path, scaling={"workers": 2, "cpus_per_worker": 0.5},
                     train={"optimizer": {"lr": 1e-3, "schedule": "cosine", "warmup_epochs": 1, "min_lr_ratio": 0.1}})
    first = run_training_job(cfg, tmp_path / "plots")
    assert first.epochs == 2
    assert {"accuracy", "raw_weights_accuracy", "chance_accuracy", "map@1", "map@5", "map@10",
            "reconstruction_chamfer"} <= set(first.metrics)
    assert sorted(Path(p).name for p in first.artifacts) == ["interpolation.png", "tsne.png"]
    assert list((tmp_path / "ckpt" / cfg.run_name()).glob("checkpoint_*/state.json")), "no training state written"
    more = configlib.from_dict(TrainJobConfig, {**configlib.to_dict(cfg), "train": {**configlib.to_dict(cfg.train),
                                                                                    "epochs": 3},
                                                "evaluation": {"tasks": ["classification"]}})
    assert more.run_name() == cfg.run_name()
    second = run_training_job(more)
    assert second.epochs == 3
    out = capfd.readouterr()
    logs = out.out + out.err
    assert "resumed from the training state of epoch 2" in logs and "epoch 1/3" not in logs
    assert f"epoch 3/3 lr {more.train.optimizer.epoch_lr(2, 3):.3g} " in logs  # the schedule goes on where it was


@pytest.mark.slow
def test_checkpoint_select_evaluates_the_epoch_it_names(local_ray, siren_families, tmp_path, capfd, caplog):
    """max:val_loss picks the worst validation epoch: here the first (val losses 0.6961, 0.6937,
    0.6935, 0.6942), neither the last state nor the min one."""
    from inrzoo.zoo.core.job import run_training_job

    arch, params, labels = siren_families(8)
    ds = write_dataset(str(tmp_path / "d.zarr"), arch, params, labels, copies=1)
    cfg = job_config(ds.uri, tmp_path, data={"split": {"test_fraction": 0.25, "val_fraction": 0.3}},
                     train={"epochs": 4, "optimizer": {"lr": 1e-3}}, checkpoint={"select": "max:val_loss", "keep": 4},
                     evaluation={"tasks": []})
    caplog.set_level(logging.INFO, logger="inrzoo.zoo.core.job")
    summary = run_training_job(cfg)
    out = capfd.readouterr()
    val = {int(m[0]): float(m[1]) for m in re.findall(r"epoch (\d+)/4 .*? val_loss ([0-9.]+)", out.out + out.err)}
    assert sorted(val) == [1, 2, 3, 4] and summary.epochs == 4
    assert summary.selected_epoch == max(val, key=val.get) != min(val, key=val.get)
    assert f"evaluating the training state of epoch {summary.selected_epoch} (val_loss" in caplog.text
    without_val = job_config(ds.uri, tmp_path, checkpoint={"select": "min:val_loss"}, evaluation={"tasks": []})
    with pytest.raises(ValueError, match="0 val rows"):
        run_training_job(without_val)


@pytest.mark.slow
def test_tasks_job_runs_a_task_of_the_registry_on_a_saved_model(siren_families, tmp_path):
    arch, params, labels = siren_families(8)
    ds = write_dataset(str(tmp_path / "d.zarr"), arch, params, labels)
    data = weight_data(ds.uri)
    from inrzoo.zoo.inr2vec import Inr2vec

    torch.manual_seed(0)
    model = Inr2vec(tiny_config(), data.spec())
    train_on(model, params, adamw(model), epochs=3)
    weights = save_model(model, str(tmp_path / "m.safetensors"))
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"model": {"name": "inr2vec"}, "data": {"uri": ds.uri},
                                      "tracking": {"enabled": False},
                                      "tasks": {"classification": {"classifier": {"epochs": 5, "batch_size": 8,
                                                                                  "layers_dim": [16, 16, 8]}}}}))
    done = subprocess.run([sys.executable, str(REPO / "jobs" / "tasks.py"), "classification", "--model", weights,
                           "--config", str(config)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["task"] == "classification"
    assert {"accuracy", "raw_weights_accuracy", "chance_accuracy"} <= set(result["metrics"])


@pytest.mark.slow
def test_a_train_split_smaller_than_one_batch_fails_naming_the_dataset(local_ray, siren_families, tmp_path):
    from inrzoo.zoo.core.job import run_training_job

    arch, params, labels = siren_families(6)
    ds = write_dataset(str(tmp_path / "d.zarr"), arch, params, labels, copies=1)
    cfg = job_config(ds.uri, tmp_path, train={"batch_size": 64}, evaluation={"tasks": []})
    with pytest.raises(Exception, match="no training batch in epoch 1"):
        run_training_job(cfg)
