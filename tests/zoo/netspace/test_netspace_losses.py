"""NetSpace's losses as the thesis defines them."""

import math

import pytest
import torch
import torch.nn.functional as F

from inrzoo.zoo.netspace.losses import (
    class_id_loss, distillation_kl, interpolate_embeddings, interpolation_points, kd_loss, sdf_distillation_loss,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_kl_is_the_tempered_kl_to_the_target_times_t_squared():
    gen = torch.Generator().manual_seed(0)
    student, teacher = torch.randn(5, 10, generator=gen), torch.randn(5, 10, generator=gen) * 3
    t = 4.0
    p_t, p_s = F.softmax(teacher / t, -1), F.softmax(student / t, -1)
    manual = (p_t * (p_t.log() - p_s.log())).sum(-1).mean() * t * t
    torch.testing.assert_close(distillation_kl(student, teacher, t), manual)
    assert float(distillation_kl(teacher, teacher, t)) == pytest.approx(0.0, abs=1e-6)


def test_kd_mixes_kl_and_cross_entropy_with_alpha():
    gen = torch.Generator().manual_seed(1)
    student, teacher = torch.randn(6, 10, generator=gen), torch.randn(6, 10, generator=gen)
    labels = torch.randint(10, (6,), generator=gen)
    terms = kd_loss(student, teacher, labels, alpha=0.9, temperature=4.0)
    torch.testing.assert_close(terms.total, 0.9 * terms.kl + 0.1 * F.cross_entropy(student, labels))


def test_kl_gradients_reach_only_the_student():
    student = torch.randn(3, 10, requires_grad=True)
    teacher = torch.randn(3, 10, requires_grad=True)
    distillation_kl(student, teacher).backward()
    assert student.grad is not None and teacher.grad is None


def test_class_loss_sums_over_networks_and_sdf_loss_is_mse():
    logits, ids = torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
    torch.testing.assert_close(class_id_loss(logits, ids), F.cross_entropy(logits, ids) * 4)
    a, b = torch.randn(2, 100), torch.randn(2, 100)
    torch.testing.assert_close(sdf_distillation_loss(a, b), ((a - b) ** 2).mean())


def test_interpolation_points_lie_between_boundary_architectures_at_i_over_a_minus_1():
    ids = torch.tensor([0, 3, 1, 0, 3])  # two of architecture 0, two of architecture 3 (A = 4)
    points = interpolation_points(ids, 4)
    assert points.gamma.numel() == 2 * 2 * 2
    assert sorted(set(round(g, 6) for g in points.gamma.tolist())) == [round(1 / 3, 6), round(2 / 3, 6)]
    assert torch.all(ids[points.first] == 0) and torch.all(ids[points.last] == 3)
    assert torch.all(points.target_arch == torch.round(points.gamma * 3).long())
    emb = torch.randn(5, 8)
    mixed = interpolate_embeddings(emb, points)
    k = 0
    expected = (1 - points.gamma[k]) * emb[points.first[k]] + points.gamma[k] * emb[points.last[k]]
    torch.testing.assert_close(mixed[k], expected)
    assert interpolation_points(torch.tensor([0, 1]), 2).gamma.numel() == 0  # no intermediate architecture
    assert interpolation_points(torch.tensor([0, 0, 1]), 3).gamma.numel() == 0  # no boundary pair
    assert math.isclose(float(interpolation_points(torch.tensor([0, 2]), 3).gamma[0]), 0.5)
