"""Losses against their papers' formulas."""

import math

import pytest
import torch

from inrzoo.fit import LossConfig, make_loss
from inrzoo.fit.losses import eikonal

E = torch.zeros(1, dtype=torch.long)


def test_l1_and_clamped_l1():
    pred, target = torch.tensor([[0.5, -0.2]]), torch.tensor([[0.1, 0.3]])
    assert make_loss(LossConfig(name="l1"), "sdf")(pred, target, E).item() == pytest.approx((0.4 + 0.5) / 2)
    clamped = make_loss(LossConfig(name="clamped_l1", delta=0.1), "sdf")(pred, target, E)
    assert clamped.item() == pytest.approx((0.0 + 0.2) / 2)


def test_curriculum_schedule_follows_sergeev():
    loss = make_loss(LossConfig(name="curriculum"), "sdf")
    eps, lam = loss.schedule(torch.tensor([0, 199, 200, 599, 600, 1000, 4999, 5000, 9999]))
    assert eps.tolist() == pytest.approx([0.025, 0.025, 0.01, 0.01, 0.0025, 0.0, 0.0, 0.0, 0.0])
    assert lam.tolist() == pytest.approx([0.0, 0.0, 0.1, 0.1, 0.2, 0.5, 0.5, 0.8, 0.8])


def test_curriculum_weights_hard_samples_and_ignores_errors_below_epsilon():
    loss = make_loss(LossConfig(name="curriculum", delta=0.1), "sdf")
    s = torch.tensor([[0.05, 0.05, 0.05]])
    f = torch.tensor([[0.02, 0.08, 0.045]])  # hard (between surface and s), easy (overshoot), tiny error
    epoch = torch.tensor([1000])  # epsilon 0, lambda 0.5
    per = loss.per_sample(f, s, epoch)[0]
    assert per.tolist() == pytest.approx([1.5 * 0.03, 0.5 * 0.03, 1.5 * 0.005])
    early = loss.per_sample(f, s, torch.tensor([0]))[0]  # epsilon 0.025 swallows all three
    assert early.tolist() == pytest.approx([0.005, 0.005, 0.0], abs=1e-7)


def test_bce_normalizes_distances_and_decodes_back():
    sdf = make_loss(LossConfig(name="bce", delta=0.1), "sdf")
    udf = make_loss(LossConfig(name="bce", delta=0.1), "udf")
    d = torch.tensor([[-0.3, -0.05, 0.0, 0.05, 0.3]])
    assert sdf.normalize(d).tolist()[0] == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])
    assert udf.normalize(d.abs()).tolist()[0] == pytest.approx([1.0, 0.5, 0.0, 0.5, 1.0])
    logits = torch.logit(torch.tensor([[0.25, 0.75]]))
    assert sdf.decode(logits).tolist()[0] == pytest.approx([-0.05, 0.05], abs=1e-6)
    target = torch.tensor([[0.3]])
    expected = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor([[0.2]]), torch.tensor([[1.0]]))
    assert sdf(torch.tensor([[0.2]]), target, E).item() == pytest.approx(expected.item())


def test_focal_loss_formula():
    loss = make_loss(LossConfig(name="focal", focal_alpha=0.25, focal_gamma=2.0), "occupancy")
    logit = torch.tensor([[0.3, -1.2]])
    y = torch.tensor([[1.0, 1.0]])
    p = torch.sigmoid(logit)[0]
    expected = [float(-0.25 * (1 - p[i]) ** 2 * math.log(p[i])) for i in range(2)]
    assert loss.per_sample(logit, y, E)[0].tolist() == pytest.approx(expected, rel=1e-5)
    y0 = torch.tensor([[0.0]])
    p0 = torch.sigmoid(torch.tensor(0.3))
    assert loss.per_sample(torch.tensor([[0.3]]), y0, E).item() == pytest.approx(float(-0.75 * p0**2 * math.log(1 - p0)), rel=1e-5)


def test_sal_is_sign_agnostic():
    loss = make_loss(LossConfig(name="sal"), "udf")
    d = torch.tensor([[0.2, 0.4]])
    assert loss(d, d, E).item() == 0.0 and loss(-d, d, E).item() == 0.0
    assert loss(torch.tensor([[0.1, -0.1]]), d, E).item() == pytest.approx((0.1 + 0.3) / 2)


def test_eikonal_is_zero_for_a_distance_function():
    x = torch.randn(2, 100, 3, requires_grad=True)
    assert eikonal(x, x.norm(dim=-1) - 0.5).abs().max() < 1e-6
    assert eikonal(x, 2 * x.norm(dim=-1)).tolist() == pytest.approx([1.0, 1.0])
