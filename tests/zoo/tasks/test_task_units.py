"""The task units on a briefly trained inr2vec: capability checks, generation, transfer, multitask
and its hold-out protocol, refusals naming what is missing."""

from __future__ import annotations

import pytest
import torch

from inr2vec_helpers import adamw, spec_of, tiny_config, train_on, weight_data, write_dataset
from inrzoo.zoo.core.job_config import TaskSettings
from inrzoo.zoo.core.tasks import TaskContext, run_tasks, task_class
from inrzoo.zoo.inr2vec import Inr2vec, MultiTaskConfig
from inrzoo.zoo.inr2vec.multitask_task import MultitaskTask
from inrzoo.zoo.linear.model import LinearAutoencoder, LinearConfig
from inrzoo.zoo.tasks.generation import GanConfig, GenerationSettings, GenerationTask
from inrzoo.zoo.tasks.segmentation import SegmentationSettings, SegmentationTask
from inrzoo.zoo.tasks.transfer import TransferConfig, TransferSettings, TransferTask


@pytest.fixture()
def trained(siren_families, tmp_path):
    torch.manual_seed(0)
    arch, params, labels = siren_families(8)
    ds = write_dataset(str(tmp_path / "d.zarr"), arch, params, labels)
    data = weight_data(ds.uri)
    model = Inr2vec(tiny_config(), data.spec())
    train_on(model, params, adamw(model), epochs=3)
    return model.eval(), data


def context(model, data, tmp_path) -> TaskContext:
    return TaskContext(model, data, TaskSettings(), tmp_path)


def test_tasks_check_the_capabilities_they_need(siren_families):
    arch, _, _ = siren_families(1)
    linear = LinearAutoencoder(LinearConfig(4), spec_of(arch))
    task_class("reconstruction").check(linear)  # encoder and field decoder: fine
    with pytest.raises(TypeError, match="task 'multitask' needs a model that is Inr2vec"):
        MultitaskTask.check(linear)


@pytest.mark.slow
def test_generation_decodes_gan_samples_to_meshes(trained, tmp_path):
    model, data = trained
    gan = GanConfig(epochs=3, batch_size=4, generator_dims=[16], discriminator_dims=[16, 16])
    outcome = GenerationTask().run(context(model, data, tmp_path / "gen"),
                                   GenerationSettings(gan, samples=2, mesh_resolution=16))
    assert set(outcome.metrics) == {"gan_critic_loss", "gan_generator_loss", "generated_meshes", "generated_nearest_ratio"}
    assert outcome.metrics["generated_meshes"] == len(list((tmp_path / "gen").glob("generated_*.ply"))) == len(outcome.files)


@pytest.mark.slow
def test_transfer_onto_the_same_space_matches_shapes(trained, tmp_path):
    from inrzoo.zoo.core.checkpoint import save_model

    model, data = trained
    weights = save_model(model, str(tmp_path / "m.safetensors"))
    settings = TransferSettings(weights, data.section.uri, TransferConfig(num_layers=2, epochs=200, batch_size=8, lr=1e-2))
    metrics = TransferTask().run(context(model, data, tmp_path), settings).metrics
    assert metrics["transfer_mse"] < 1.0 and 0.0 <= metrics["transfer_top1"] <= 1.0
    with pytest.raises(ValueError, match="target_model and target_dataset"):
        TransferTask().run(context(model, data, tmp_path), TransferSettings())


@pytest.mark.slow
def test_multitask_and_holdout_protocol_report_accuracy(trained, tmp_path):
    model, data = trained
    small = MultiTaskConfig(epochs=1)
    small.classifier.layers_dim, small.classifier.epochs, small.classifier.batch_size = [16, 16, 8], 5, 8
    joint = MultitaskTask().run(context(model, data, tmp_path), small).metrics
    small.holdout = "classification"
    held = MultitaskTask().run(context(model, data, tmp_path), small).metrics
    assert 0 <= joint["multitask_test_accuracy"] <= 1 and 0 <= held["multitask_test_accuracy"] <= 1
    assert joint["multitask_classification"] > 0 and "multitask_classification" not in held


@pytest.mark.slow
def test_segmentation_refuses_datasets_without_part_labels(trained, tmp_path):
    model, data = trained
    with pytest.raises(ValueError, match="part segmentation needs rows with part labels"):
        SegmentationTask().run(context(model, data, tmp_path), SegmentationSettings())
    with pytest.raises(ValueError, match="holding out segmentation needs rows with part labels"):
        MultitaskTask().run(context(model, data, tmp_path), MultiTaskConfig(epochs=1, holdout="segmentation"))


def test_run_tasks_checks_every_task_before_the_first_runs(trained, tmp_path):
    model, data = trained
    linear = LinearAutoencoder(LinearConfig(4), data.spec())
    with pytest.raises(TypeError, match="multitask"):
        run_tasks(["classification", "multitask"], context(linear, data, tmp_path))
