"""The Costain & Prisacariu multi-task variant and its hold-out protocol, on synthetic INRs."""

from __future__ import annotations

import pytest
import torch

from inrzoo.inr import select_params
from inr2vec_helpers import adamw, spec_of
from inrzoo.zoo.components.implicit_decoder import DecoderConfig
from inrzoo.zoo.core import StepContext
from inrzoo.zoo.inr2vec import Inr2vec, MultiTaskConfig
from inrzoo.zoo.tasks.classification import ClassifierConfig
from inrzoo.zoo.tasks.segmentation import SegmentationConfig
from inrzoo.zoo.inr2vec.multitask import (
    MultiTaskInr2vec,
    TaskBatch,
    holdout_config,
    holdout_evaluation,
    multitask_losses,
    train_multitask_epoch,
)


def task_data(siren_families, n_per_family=12):
    arch, params, labels = siren_families(n_per_family)
    gen = torch.Generator().manual_seed(0)
    points = torch.rand(len(labels), 32, 3, generator=gen) * 2 - 1
    # class 0: parts 0/1 split by x; class 1: parts 2/3 split by z.
    parts = torch.where(labels[:, None] == 0, (points[..., 0] > 0).long(), 2 + (points[..., 2] > 0).long())
    return arch, TaskBatch(params, labels, points, parts)


def small_mt_config(**weights) -> MultiTaskConfig:
    small_decoder = DecoderConfig(hidden_dim=32, layers_before_skip=1, layers_after_skip=1)
    return MultiTaskConfig(
        classifier=ClassifierConfig(layers_dim=[16, 16], epochs=40, batch_size=8, lr=3e-3),
        segmentation=SegmentationConfig(decoder=small_decoder, epochs=40, batch_size=8, lr=3e-3),
        **weights,
    )


def step(seed: int) -> StepContext:
    return StepContext(torch.device("cpu"), torch.Generator().manual_seed(seed))


def split(batch: TaskBatch, idx) -> TaskBatch:
    return TaskBatch(select_params(batch.params, idx), batch.class_ids[idx], batch.part_points[idx], batch.part_labels[idx])


def test_losses_are_weighted_and_held_out_tasks_switched_off(siren_families, tiny_config):
    torch.manual_seed(0)
    arch, data = task_data(siren_families, 4)
    config = small_mt_config(classification_weight=0.5, segmentation_weight=2.0)
    mt = MultiTaskInr2vec(Inr2vec(tiny_config(), spec_of(arch)), 2, 4, config)
    losses = multitask_losses(mt, data, step(0))
    expected = losses["reconstruction"] + 0.5 * losses["classification"] + 2.0 * losses["segmentation"]
    torch.testing.assert_close(losses["loss"], expected)
    held = holdout_config(config, "classification")
    assert held.classification_weight == 0.0 and held.segmentation_weight == 2.0
    mt.config = held
    assert "classification" not in multitask_losses(mt, data, step(0))


def test_multitask_training_then_holdout_protocol(siren_families, tiny_config):
    torch.manual_seed(0)
    arch, data = task_data(siren_families, 12)
    config = holdout_config(small_mt_config(), "classification")  # stage 1: reconstruction + segmentation
    mt = MultiTaskInr2vec(Inr2vec(tiny_config(), spec_of(arch)), 2, 4, config)
    optimizer = adamw(mt, 3e-3)
    train, test = split(data, list(range(16))), split(data, list(range(16, 24)))
    batches = [split(train, list(range(i, i + 8))) for i in (0, 8)]
    first = train_multitask_epoch(mt, batches, optimizer, step(0))
    for _ in range(10):
        last = train_multitask_epoch(mt, batches, optimizer, step(0))
    assert set(first) == {"reconstruction", "reconstruction_kl", "segmentation", "loss", "steps", "items"}
    assert last["segmentation"] < first["segmentation"]
    frozen = {n: p.clone() for n, p in mt.model.encoder.state_dict().items()}
    # stage 2: the encoder is frozen and only the held-out classification head is trained
    result = holdout_evaluation(mt.model, "classification", train, test, 2, config)
    assert result["test_accuracy"] >= 0.75
    assert all(torch.equal(frozen[n], p) for n, p in mt.model.encoder.state_dict().items())
    assert not any(p.requires_grad for p in mt.model.parameters())
    seg = holdout_evaluation(mt.model, "segmentation", train, test, 2, config, num_parts=4,
                             class_parts={0: [0, 1], 1: [2, 3]})
    assert 0.0 <= seg["class_miou"] <= 1.0 and 0.0 <= seg["instance_miou"] <= 1.0
    with pytest.raises(ValueError, match="held_out"):
        holdout_evaluation(mt.model, "retrieval", train, test, 2, config)
