"""Metrics against analytic values: Chamfer conventions, F-score limits, IoU of boxes, normals."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inrzoo import metrics


def sphere_directions(n: int) -> np.ndarray:
    """n well-spread unit vectors (Fibonacci sphere)."""
    i = np.arange(n) + 0.5
    phi = np.arccos(1 - 2 * i / n)
    theta = np.pi * (1 + 5**0.5) * i
    return np.stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)], axis=1)


def test_chamfer_of_a_set_with_itself_is_zero():
    pts = np.random.default_rng(0).normal(size=(500, 3))
    for fn in (metrics.chamfer_l1, metrics.chamfer_l2_squared, metrics.chamfer_deepsdf):
        assert fn(pts, pts) == 0.0


def test_chamfer_of_concentric_spheres_is_the_radius_difference():
    u = sphere_directions(2000)
    a, b = 0.5 * u, 0.8 * u
    # Each point's nearest neighbour on the other sphere is along its own direction.
    assert metrics.chamfer_l1(a, b) == pytest.approx(0.3, abs=1e-12)
    assert metrics.chamfer(a, b, reduction="sum") == pytest.approx(0.6, abs=1e-12)
    assert metrics.chamfer_l2_squared(a, b) == pytest.approx(0.09, abs=1e-12)
    assert metrics.chamfer_deepsdf(a, b) == pytest.approx(0.18, abs=1e-12)


def test_chamfer_is_symmetric_and_averages_the_two_directions():
    a = np.array([[0.0, 0, 0], [1.0, 0, 0]])
    b = np.array([[0.0, 0, 0]])
    # a -> b: distances 0 and 1 (mean 0.5); b -> a: 0. Mean of the two directions: 0.25.
    assert metrics.chamfer_l1(a, b) == pytest.approx(0.25)
    assert metrics.chamfer_l1(b, a) == pytest.approx(0.25)
    assert metrics.chamfer_deepsdf(a, b) == pytest.approx(0.5)


def test_fscore_limits_and_a_known_partial_case():
    ref = sphere_directions(1000)
    assert metrics.fscore(ref, ref, 1e-3) == 1.0
    assert metrics.fscore(ref + 10.0, ref, 1.0) == 0.0
    assert metrics.fscore(ref + 0.5, ref, 100.0) == 1.0
    # Half of the prediction sits on the reference, half far away: precision 1/2, recall 1.
    pred = np.concatenate([ref, ref + 10.0])
    assert metrics.precision_recall(pred, ref, 0.01) == (0.5, 1.0)
    assert metrics.fscore(pred, ref, 0.01) == pytest.approx(2 / 3)


def test_iou_of_known_boxes():
    a = np.zeros((10, 10, 10), dtype=bool)
    b = np.zeros_like(a)
    a[0:6, 0:6, 0:6] = True
    b[3:9, 3:9, 3:9] = True
    assert metrics.iou(a, b) == pytest.approx(27 / (216 + 216 - 27))
    assert metrics.iou(a, a) == 1.0
    assert metrics.iou(a, ~a) == 0.0
    assert metrics.iou(np.zeros(5, bool), np.zeros(5, bool)) == 1.0


def test_iou_rejects_mismatched_or_non_boolean_input():
    with pytest.raises(ValueError, match="shape"):
        metrics.iou(np.zeros((2, 2), bool), np.zeros(4, bool))
    with pytest.raises(ValueError, match="boolean"):
        metrics.iou(np.zeros(4), np.zeros(4))


def test_normal_consistency_ignores_orientation_and_sees_perpendicular_normals():
    pts = sphere_directions(500)
    assert metrics.normal_consistency(pts, pts, pts, -3.0 * pts) == pytest.approx(1.0)
    up = np.tile([0.0, 0.0, 1.0], (4, 1))
    side = np.tile([1.0, 0.0, 0.0], (4, 1))
    grid = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]])
    assert metrics.normal_consistency(grid, up, grid, side) == pytest.approx(0.0)
    tilted = np.tile([0.0, np.sin(np.pi / 3), np.cos(np.pi / 3)], (4, 1))
    assert metrics.normal_consistency(grid, up, grid, tilted) == pytest.approx(0.5)


def test_bad_point_sets_are_refused_with_their_name():
    with pytest.raises(ValueError, match="query"):
        metrics.chamfer_l1(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="NaN"):
        metrics.chamfer_l1(np.full((3, 3), np.nan), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="threshold"):
        metrics.fscore(np.zeros((3, 3)), np.zeros((3, 3)), 0.0)
    with pytest.raises(ValueError, match="a_normals"):
        metrics.normal_consistency(np.zeros((3, 3)), np.zeros((3, 3)), np.zeros((3, 3)), np.ones((3, 3)))


def test_evaluate_batched_accepts_numpy_functions_and_torch_modules():
    pts = np.random.default_rng(1).normal(size=(1000, 3)).astype(np.float32)
    expected = np.linalg.norm(pts, axis=1)
    got = metrics.evaluate_batched(lambda p: np.linalg.norm(p, axis=1), pts, batch_size=300)
    np.testing.assert_allclose(got, expected, rtol=1e-6)

    class Norm(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(()))

        def forward(self, x):
            return self.scale * x.norm(dim=1)

    np.testing.assert_allclose(metrics.evaluate_batched(Norm(), pts, 256), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="returned"):
        metrics.evaluate_batched(lambda p: p[:1, 0], pts, 300)


def test_surface_error_is_the_mean_absolute_value_on_the_surface():
    import trimesh

    from inrzoo import geometry

    tm = trimesh.creation.icosphere(subdivisions=4, radius=0.5)
    sphere = geometry.Mesh(tm.vertices, tm.faces, source="icosphere")
    assert metrics.surface_error(lambda p: np.full(len(p), -0.25), sphere, n=1_000) == pytest.approx(0.25)
    # The analytic sdf of the sphere is ~0 on the icosphere (its facets sit within 4e-4 of it).
    exact = metrics.surface_error(lambda p: np.linalg.norm(p, axis=1) - 0.5, sphere, n=20_000, rng=1)
    assert 0 < exact < 4e-4
    assert exact == metrics.surface_error(lambda p: np.linalg.norm(p, axis=1) - 0.5, sphere, n=20_000, rng=1)
    offset = metrics.surface_error(lambda p: np.linalg.norm(p, axis=1) - 0.45, sphere, n=20_000, rng=1)
    assert offset == pytest.approx(0.05, abs=4e-4)


def test_surface_metrics_of_a_shape_against_itself_and_a_shrunk_copy():
    import trimesh

    from inrzoo import geometry

    tm = trimesh.creation.icosphere(subdivisions=4, radius=0.5)
    ref = geometry.Mesh(tm.vertices, tm.faces, source="ref")
    same = metrics.surface_metrics(ref, ref, n=5_000, threshold=0.05, rng=0)
    assert same["fscore"] > 0.99 and same["normal_consistency"] > 0.99 and same["chamfer_l1"] < 0.02
    shrunk = geometry.Mesh(0.8 * tm.vertices, tm.faces, source="shrunk")
    far = metrics.surface_metrics(shrunk, ref, n=5_000, threshold=0.05, rng=0)
    assert far["chamfer_l1"] == pytest.approx(0.1, abs=0.01)
    assert far["fscore"] == 0.0 and far["normal_consistency"] > 0.99
    assert far["chamfer_deepsdf"] == pytest.approx(2 * 0.1**2, rel=0.1)
