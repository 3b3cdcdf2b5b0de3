"""Latent editing directions, strips, and fitting a code to a point cloud."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inrzoo.metrics import chamfer
from inrzoo.zoo.drapenet.editing import attribute_direction, edit_strip, extreme_classes, interpolation_strip
from inrzoo.zoo.drapenet.fitting import FitCodeConfig, chamfer_squared, fit_code, surface_shift

HALF = 0.4  # the square patches below span [-HALF, HALF]^2


def test_direction_finds_the_attribute_dimension_and_thresholds_the_rest():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(200, 32))
    labels = (codes[:, 5] - 0.8 * codes[:, 9] > 0).astype(int)
    direction = attribute_direction(codes, labels)
    assert direction[5] == pytest.approx(1.0) and direction[9] < 0
    assert np.count_nonzero(direction) <= 4 and np.abs(direction).max() == pytest.approx(1.0)
    stepped = codes[labels == 0].mean(0) + 3 * direction
    assert stepped[5] - 0.8 * stepped[9] > 0  # moving along it crosses to the other class
    with pytest.raises(ValueError, match="two classes"):
        attribute_direction(codes, np.zeros(200))


def test_extreme_classes_and_strips():
    values = np.array([0.3, np.nan, 0.1, 0.9, 0.5, 0.7, 0.2, np.nan, 0.8, 0.4])
    rows, labels = extreme_classes(values, fraction=0.25)
    assert sorted(rows[labels == 0]) == [2, 6] and sorted(rows[labels == 1]) == [3, 8]
    strip = edit_strip(np.zeros(4), np.array([1.0, 0, 0, -1]), steps=3, step_size=0.5)
    np.testing.assert_allclose(strip[:, 0], [0, 0.5, 1.0, 1.5])
    line = interpolation_strip(np.zeros(2), np.ones(2), 5)
    np.testing.assert_allclose(line[:, 1], [0, 0.25, 0.5, 0.75, 1.0])
    with pytest.raises(ValueError, match="at least 4"):
        extreme_classes(np.array([1.0, np.nan, 2.0]))


class SquareModel(torch.nn.Module):
    """A stand-in decoder: the UDF of the square [-HALF, HALF]^2 at height code[0], clipped at 0.1."""

    delta = 0.1

    def __init__(self) -> None:
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))

    def udf(self, codes: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
        outside = (queries[..., :2].abs() - HALF).clamp_min(0.0)
        planar = outside.pow(2).sum(-1)
        height = queries[..., 2] - codes[:, :1]
        return (planar + height**2 + 1e-12).sqrt().clamp_max(self.delta)


def test_surface_points_move_with_the_code_as_the_zero_set_does():
    model = SquareModel()
    code = torch.tensor([0.2], requires_grad=True)
    vertices = torch.tensor([[0.0, 0.0, 0.2], [0.1, -0.2, 0.2]])
    normals = torch.tensor([[0.0, 0.0, 1.0], [0.0, 0.0, -1.0]])  # either orientation
    shift = surface_shift(model, code, vertices, normals, 0.01)
    torch.testing.assert_close(shift, torch.zeros(2))
    moved = vertices + normals * (shift - shift.detach()).unsqueeze(-1)
    (moved[:, 2].sum()).backward()
    assert code.grad.item() == pytest.approx(2.0)  # each z follows the square's height one to one


def test_chamfer_matches_the_metrics_module():
    a, b = torch.rand(300, 3), torch.rand(200, 3)
    expected = chamfer(a.numpy(), b.numpy(), norm="l2_squared", reduction="sum")
    assert chamfer_squared(a, b).item() == pytest.approx(expected, rel=1e-5)


def test_fitting_recovers_the_height_of_a_target_square():
    rng = np.random.default_rng(0)
    target = np.concatenate([rng.uniform(-HALF, HALF, (2000, 2)), np.full((2000, 1), 0.25)], axis=1)
    code, losses = fit_code(SquareModel(), target, torch.tensor([0.18]),
                            FitCodeConfig(steps=40, lr=0.01, resolution=33, remesh_every=10, surface_points=2000))
    assert code.item() == pytest.approx(0.25, abs=0.01)
    assert losses[-1] < 0.1 * losses[0]
