"""Downstream heads: sizes, the WGAN-GP penalty, classification, transfer, GAN and segmentation."""

from __future__ import annotations

import math

import pytest
import torch

from inr2vec_helpers import spec_of
from inrzoo.zoo.components.implicit_decoder import DecoderConfig
from inrzoo.zoo.inr2vec import Inr2vec
from inrzoo.zoo.tasks.classification import Classifier, ClassifierConfig, classification_task, linear_probe
from inrzoo.zoo.tasks.embedding import embed_params
from inrzoo.zoo.tasks.generation import GanConfig, build_gan, gradient_penalty, sample_embeddings, train_latent_gan
from inrzoo.zoo.tasks.segmentation import (SegmentationConfig, SegmentationDecoder, class_parts_from_labels, part_miou,
                                           predict_parts, train_segmentation)
from inrzoo.zoo.tasks.transfer import TransferConfig, TransferNet, train_transfer, transfer_mse


def test_paper_sizes_of_the_heads():
    dims = lambda net: [(m.in_features, m.out_features) for m in net.modules() if isinstance(m, torch.nn.Linear)]
    assert dims(Classifier([1024, 512, 256], 40)) == [(1024, 512), (512, 256), (256, 40)]
    generator, critic = build_gan(1024, GanConfig())
    assert dims(generator) == [(128, 128), (128, 1024)]
    assert dims(critic) == [(1024, 256), (256, 512), (512, 1)]
    transfer = TransferNet(1024, 8)
    assert dims(transfer) == [(1024, 1024)] * 8
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in transfer.modules()) == 7
    seg = SegmentationDecoder(1024, 16, 50)  # ShapeNet-Part: 16 classes, 50 parts
    assert dims(seg)[0] == (1024 + 16 + 63, 512) and dims(seg)[-1] == (512, 50)
    out = seg(torch.zeros(2, 1024), torch.tensor([0, 15]), torch.zeros(2, 7, 3))
    assert out.shape == (2, 7, 50)


def test_gradient_penalty_of_a_linear_critic_is_exact():
    critic = torch.nn.Linear(5, 1).double()
    real, fake = torch.randn(4, 5).double(), torch.randn(4, 5).double()
    expected = (critic.weight.norm() - 1) ** 2
    torch.testing.assert_close(gradient_penalty(critic, real, fake), expected)


def test_gradient_penalty_matches_finite_differences():
    torch.manual_seed(0)
    critic = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
    real, fake = torch.randn(2, 3).double(), torch.randn(2, 3).double()
    alpha = torch.tensor([[0.25], [0.7]]).double()
    gp = gradient_penalty(critic, real, fake, alpha=alpha)
    x_hat = real + alpha * (fake - real)
    eps, slopes = 1e-6, []
    for x in x_hat:
        grad = [(critic(x + eps * e) - critic(x - eps * e)).item() / (2 * eps) for e in torch.eye(3).double()]
        slopes.append(math.sqrt(sum(g * g for g in grad)))
    assert gp.item() == pytest.approx(sum((s - 1) ** 2 for s in slopes) / 2, rel=1e-6)
    gp.backward()  # differentiable w.r.t. the critic (create_graph)
    assert critic[0].weight.grad is not None and critic[0].weight.grad.abs().sum() > 0


def test_classifier_separates_two_weight_families(siren_families, tiny_config):
    torch.manual_seed(0)
    arch, params, labels = siren_families(24)
    model = Inr2vec(tiny_config(), spec_of(arch))
    emb = embed_params(model, params)
    train, test = slice(0, 32), slice(32, 48)
    config = ClassifierConfig(layers_dim=[16, 32, 16], epochs=60, batch_size=16, lr=3e-3)
    result = classification_task(emb[train], labels[train], emb[test], labels[test], 2, config)
    assert result["test_accuracy"] >= 0.9, result
    chance = ClassifierConfig(layers_dim=[16, 32, 16], epochs=60, batch_size=16, lr=3e-3)
    shuffled = classification_task(emb[train], labels[train][torch.randperm(32)], emb[test], labels[test], 2, chance)
    assert shuffled["test_accuracy"] < result["test_accuracy"]
    with pytest.raises(ValueError, match="layers_dim"):
        classification_task(emb, labels, emb, labels, 2, ClassifierConfig(layers_dim=[8, 4]))


def test_linear_probe_reads_a_class_carried_by_one_tiny_column_whatever_its_scale():
    gen = torch.Generator().manual_seed(0)
    labels = torch.arange(120) % 3
    # Column 2 carries the class at a scale of 1e-4 under columns of noise 1e4 times larger: the
    # train-split standardization makes the scale irrelevant.
    x = torch.randn(120, 6, generator=gen)
    x[:, 2] = (labels.double() + 0.1 * torch.randn(120, generator=gen).double()).float() * 1e-4
    train, val, test = slice(0, 60), slice(60, 90), slice(90, 120)
    result = linear_probe(x[train], labels[train], x[test], labels[test], x[val], labels[val])
    assert result["test_accuracy"] >= 0.9 and result["val_accuracy"] >= 0.9, result
    shuffled = linear_probe(x[train], labels[train][torch.randperm(60, generator=gen)], x[test], labels[test],
                            x[val], labels[val])
    assert shuffled["test_accuracy"] < 0.7, shuffled


def test_transfer_learns_a_fixed_map_between_spaces():
    gen = torch.Generator().manual_seed(0)
    source = torch.randn(96, 8, generator=gen)
    mapping = torch.randn(8, 8, generator=gen) / 3
    target = torch.relu(source @ mapping)
    config = TransferConfig(num_layers=3, epochs=150, batch_size=32, lr=1e-2, weight_decay=0.0)
    net, history = train_transfer(source[:64], target[:64], config, source[64:], target[64:])
    baseline = float(((target[64:] - target[:64].mean(0)) ** 2).mean())
    assert transfer_mse(net, source[64:], target[64:]) < 0.3 * baseline
    assert len(history["val_mse"]) == 150


def test_latent_gan_trains_and_samples():
    gen = torch.Generator().manual_seed(0)
    data = torch.relu(torch.randn(64, 6, generator=gen) * 0.3 + 1.0)
    config = GanConfig(noise_dim=4, generator_dims=[16], discriminator_dims=[16, 16], epochs=30, batch_size=16,
                       critic_steps=2, lr=1e-3)
    generator, _, history = train_latent_gan(data, config)
    assert all(math.isfinite(v) for v in history["loss_d"] + history["loss_g"] + history["gp"])
    samples = sample_embeddings(generator, 200, config, seed=1)
    assert samples.shape == (200, 6)
    untrained = sample_embeddings(build_gan(6, config)[0], 200, config, seed=1)
    target = data.mean(0)
    assert (samples.mean(0) - target).norm() < (untrained.mean(0) - target).norm()
    torch.testing.assert_close(samples, sample_embeddings(generator, 200, config, seed=1))


def test_part_miou_by_hand():
    pred = torch.tensor([[0, 0, 1, 1], [2, 2, 2, 2]])
    target = torch.tensor([[0, 1, 1, 1], [2, 2, 3, 3]])
    parts = {0: [0, 1], 1: [2, 3]}
    score = part_miou(pred, target, torch.tensor([0, 1]), parts)
    shape0 = (1 / 2 + 2 / 3) / 2
    shape1 = (2 / 4 + 0) / 2
    assert score["instance_miou"] == pytest.approx((shape0 + shape1) / 2)
    assert score["class_miou"] == pytest.approx((shape0 + shape1) / 2)


def test_segmentation_decoder_learns_half_space_parts():
    gen = torch.Generator().manual_seed(0)
    n, classes = 32, torch.arange(32) % 2
    points = torch.rand(n, 64, 3, generator=gen) * 2 - 1
    # class 0: parts 0/1 split by x; class 1: parts 2/3 split by y.
    labels = torch.where(classes[:, None] == 0, (points[..., 0] > 0).long(), 2 + (points[..., 1] > 0).long())
    emb = torch.randn(n, 8, generator=gen)
    config = SegmentationConfig(decoder=DecoderConfig(hidden_dim=32, layers_before_skip=1, layers_after_skip=1),
                                epochs=60, batch_size=8, lr=3e-3)
    parts = class_parts_from_labels(classes, labels)
    assert parts == {0: [0, 1], 1: [2, 3]}
    model, _ = train_segmentation(emb[:24], classes[:24], points[:24], labels[:24], 2, 4, config)
    pred = predict_parts(model, emb[24:], classes[24:], points[24:], parts)
    assert all(set(p.tolist()) <= set(parts[c]) for p, c in zip(pred, classes[24:].tolist()))
    assert part_miou(pred, labels[24:], classes[24:], parts)["instance_miou"] > 0.75
