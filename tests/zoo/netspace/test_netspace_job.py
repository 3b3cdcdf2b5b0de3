"""NetSpace through the zoo core on a local Ray: TorchTrainer training with training states,
its tasks after training, resume with a larger epoch budget, and a model file that loads back
without unpickling and encodes the same."""

from pathlib import Path

import pytest
import torch

from inrzoo import config as configlib
from inrzoo.zoo.core.checkpoint import load_model, save_model
from inrzoo.zoo.core.job_config import TrainJobConfig
from netspace_helpers import tiny_space_config


def job_config(uri: str, tmp_path: Path, epochs: int) -> TrainJobConfig:
    return configlib.from_dict(TrainJobConfig, {
        "model": {"name": "netspace", **configlib.to_dict(tiny_space_config(width=1024, teacher="best"))},
        "data": {"uri": uri, "options": {"images_per_batch": 32}},
        "train": {"epochs": epochs, "batch_size": 3, "optimizer": {"name": "adam", "lr": 0.001}},
        "checkpoint": {"storage_path": str(tmp_path / "ckpt")},
        "evaluation": {"tasks": ["netspace_decoding", "netspace_sampling"]},
        "tasks": {"netspace_sampling": {"count": 2}},
        "tracking": {"enabled": False}})


@pytest.mark.slow
def test_netspace_trains_through_the_core_resumes_and_reloads(local_ray, digits_zoo, tmp_path, capfd):
    from inrzoo.zoo.core.job import run_training_job

    cfg = job_config(digits_zoo, tmp_path, epochs=2)
    first = run_training_job(cfg, tmp_path / "files")
    assert first.epochs == 2
    assert {"decoded_accuracy", "class_id_accuracy", "sampled_accuracy"} <= set(first.metrics)
    states = list((tmp_path / "ckpt" / cfg.run_name()).glob("checkpoint_*/model.safetensors"))
    assert states, "no training state written"
    second = run_training_job(job_config(digits_zoo, tmp_path, epochs=3))
    assert second.epochs == 3
    logs = "".join(capfd.readouterr())
    assert "resumed from the training state of epoch 2" in logs and "epoch 3/3" in logs
    model, _ = load_model(str(sorted(states)[-1]))
    assert model.name == "netspace" and model.spec.kind == "classifier" and len(model.archs) == 3
    path = save_model(model, str(tmp_path / "netspace.safetensors"))
    again, _ = load_model(path)
    flat = torch.randn(2, 1024 * model.prep_shape[0])
    assert (again.predict(flat.numpy()) == model.predict(flat.numpy())).all()
