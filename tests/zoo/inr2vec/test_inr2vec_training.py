"""Teacher targets from the input INRs and the plain-torch training loop."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from inr2vec_helpers import spec_of
from inrzoo.zoo.core import OptimizerConfig, StepContext
from inrzoo.zoo.core.loop import evaluate_epoch, make_optimizer, train_epoch
from inrzoo.zoo.core.weights import WeightBatch, WeightSpec
from inrzoo.zoo.inr2vec import Inr2vec
from inrzoo.zoo.inr2vec.model import bernoulli_entropy
from inrzoo.zoo.inr2vec.config import TeacherConfig
from inrzoo.zoo.inr2vec.teacher import (
    field_from_decoder_output,
    field_from_inr_output,
    field_from_labels,
    labels_from_field,
    sample_queries,
    target_kind,
    teacher_targets,
)
from inrzoo.zoo.tasks.embedding import embed_params
from inrzoo.zoo.tasks.reconstruction import surface_level

CPU = torch.device("cpu")


def test_bce_labels_follow_inr2vec_normalization_and_invert():
    sdf = TeacherConfig(field="sdf", clamp=0.1)
    d = torch.tensor([-0.5, -0.1, 0.0, 0.05, 0.3])
    torch.testing.assert_close(labels_from_field(d, sdf), torch.tensor([0.0, 0.0, 0.5, 0.75, 1.0]))
    udf = TeacherConfig(field="udf", clamp=0.1)
    torch.testing.assert_close(labels_from_field(torch.tensor([0.0, 0.05, 0.2]), udf), torch.tensor([1.0, 0.5, 0.0]))
    occupancy = TeacherConfig(field="occupancy", inr_loss="focal")
    torch.testing.assert_close(labels_from_field(torch.tensor([-0.5, 0.0, 0.3]), occupancy), torch.tensor([0.0, 0.5, 0.8]))
    inside = torch.tensor([-0.08, 0.0, 0.02])
    torch.testing.assert_close(field_from_labels(labels_from_field(inside, sdf), sdf), inside)
    logits = torch.logit(labels_from_field(inside, sdf))
    torch.testing.assert_close(field_from_decoder_output(logits, sdf, "bce"), inside)


def test_inr_outputs_are_read_by_the_fit_losses_decode():
    raw = torch.tensor([-3.0, 0.0, 2.0])
    bce_udf = TeacherConfig(field="udf", inr_loss="bce", inr_delta=0.2)
    torch.testing.assert_close(field_from_inr_output(raw, bce_udf), torch.sigmoid(raw) * 0.2)
    bce_sdf = TeacherConfig(field="sdf", inr_loss="bce", inr_delta=0.1)
    torch.testing.assert_close(field_from_inr_output(raw, bce_sdf), torch.sigmoid(raw) * 0.2 - 0.1)
    torch.testing.assert_close(field_from_inr_output(raw, TeacherConfig(field="sdf")), raw)
    sal = TeacherConfig(field="udf", inr_loss="sal")
    assert target_kind(sal) == "signed"
    udf_spec = WeightSpec(arch={}, param_shapes={}, field="udf", fit_loss={"name": "bce"})
    assert surface_level(udf_spec) == pytest.approx(0.01)
    assert surface_level(WeightSpec(arch={}, param_shapes={}, field="udf", fit_loss={"name": "sal"})) == 0.0


def test_the_teacher_is_read_from_the_dataset_and_a_contradiction_is_refused(sphere_inrs, tiny_config):
    arch, _ = sphere_inrs([0.5])
    model = Inr2vec(tiny_config(), spec_of(arch, "udf", {"name": "bce", "delta": 0.2}))
    assert (model.teacher.field, model.teacher.inr_loss, model.teacher.inr_delta) == ("udf", "bce", 0.2)
    with pytest.raises(ValueError, match="model.teacher.inr_loss is 'l1' but the INRs"):
        Inr2vec(tiny_config(inr_loss="l1"), spec_of(arch, "udf", {"name": "bce", "delta": 0.2}))


def test_queries_concentrate_near_the_teacher_surface(sphere_inrs):
    arch, params = sphere_inrs([0.5, 0.7])
    config = TeacherConfig(num_queries=2000, near_fraction=0.8, stds=[0.01])
    q = sample_queries(arch.forward, params, config, torch.Generator().manual_seed(0))
    assert q.shape == (2, 2000, 3) and q.abs().max() <= 1
    field = arch.forward(params, q).abs()
    uniform = arch.forward(params, torch.rand(2, 2000, 3, generator=torch.Generator().manual_seed(1)) * 2 - 1).abs()
    assert field[:, :1600].median() < 0.3 * uniform.median()


def test_teacher_targets_are_the_inr_output_in_the_loss_range(sphere_inrs):
    arch, params = sphere_inrs([0.5, 0.5])
    gen = torch.Generator().manual_seed(0)
    q, labels = teacher_targets(arch.forward, params, TeacherConfig(num_queries=300), "bce", gen)
    assert labels.min() >= 0 and labels.max() <= 1
    expected = ((arch.forward(params, q).clamp(-0.1, 0.1)) + 0.1) / 0.2
    torch.testing.assert_close(labels, expected)
    _, values = teacher_targets(arch.forward, params, TeacherConfig(num_queries=300), "mse", gen)
    assert values.abs().max() <= 0.1
    with pytest.raises(ValueError, match="loss"):
        teacher_targets(arch.forward, params, TeacherConfig(num_queries=10), "l1", gen)


def test_bce_fitted_teachers_give_their_decoded_distances_as_targets(sphere_inrs):
    arch, params = sphere_inrs([0.5])
    config = TeacherConfig(num_queries=100, field="udf", inr_loss="bce", inr_delta=0.1, clamp=0.1)
    q, labels = teacher_targets(arch.forward, params, config, "bce", torch.Generator().manual_seed(0))
    udf = torch.sigmoid(arch.forward(params, q)) * 0.1  # how inrzoo.fit's BCE reads its logits
    torch.testing.assert_close(labels, 1 - udf / 0.1, atol=1e-6, rtol=1e-5)


def test_bce_of_the_labels_own_logits_is_their_entropy_so_the_kl_term_is_zero():
    labels = torch.tensor([0.0, 0.1, 0.5, 0.93, 1.0])
    logits = torch.logit(labels.clamp(1e-7, 1 - 1e-7))
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
    torch.testing.assert_close(bce, bernoulli_entropy(labels), atol=1e-5, rtol=0)
    assert bernoulli_entropy(torch.tensor([0.5])) == pytest.approx(math.log(2))
    assert bernoulli_entropy(torch.tensor([0.0, 1.0])) < 1e-5


# "kl" for BCE: BCE itself has the labels' entropy as its floor, which the excess over it does
# not have (measured here: 0.26 -> 0.16).
@pytest.mark.parametrize("loss, key, ratio", [("mse", "loss", 0.2), ("bce", "loss", 0.9), ("bce", "kl", 0.7)])
def test_train_epoch_reduces_the_reconstruction_loss(sphere_inrs, tiny_config, loss, key, ratio):
    torch.manual_seed(0)
    arch, params = sphere_inrs([0.3, 0.45, 0.6, 0.75])
    model = Inr2vec(dataclasses.replace(tiny_config(), loss=loss), spec_of(arch))
    optimizer = make_optimizer(model, OptimizerConfig(lr=3e-3, weight_decay=1e-2))
    batches = [WeightBatch(params, torch.arange(4), torch.arange(4))]
    gen = torch.Generator().manual_seed(0)
    before = evaluate_epoch(model, batches, StepContext(CPU, torch.Generator().manual_seed(1)))[key]
    for _ in range(40):
        stats = train_epoch(model, batches, optimizer, StepContext(CPU, gen))
    after = evaluate_epoch(model, batches, StepContext(CPU, torch.Generator().manual_seed(1)))[key]
    assert stats["steps"] == 1 and stats["items"] == 4
    assert after < ratio * before, (before, after)


def test_embeddings_in_batches_equal_one_pass(siren_families, tiny_config):
    arch, params, _ = siren_families(3)
    model = Inr2vec(tiny_config(), spec_of(arch)).eval()
    e = embed_params(model, params, batch_size=4)
    assert e.shape == (6, 16)
    with torch.no_grad():
        torch.testing.assert_close(e, model.encode(params))
