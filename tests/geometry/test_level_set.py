"""Zero-level-set points from a coarse grid refined near the surface, and the Chamfer check
built on them, against analytic fields and the dense marching-cubes check."""

import numpy as np
import pytest
import torch
import trimesh

import inrzoo.geometry as g
from inrzoo import metrics


def sphere(points):
    return np.linalg.norm(points, axis=1) - 0.5


def thin_slab(points):
    """A slab |z| < 0.004 (thinner than a 64^3 cell) clipped to the ball of radius 0.6."""
    return np.maximum(np.abs(points[:, 2]) - 0.004, np.linalg.norm(points, axis=1) - 0.6)


def test_points_lie_on_the_level_set_and_spread_over_it():
    pts = g.level_set_points(sphere, 20_000, rng=np.random.default_rng(0))
    assert len(pts) == 20_000
    np.testing.assert_allclose(np.linalg.norm(pts, axis=1), 0.5, atol=1e-5)
    octants = np.bincount(((pts > 0) * [4, 2, 1]).sum(axis=1), minlength=8) / len(pts)
    np.testing.assert_allclose(octants, 1 / 8, atol=0.015)


def test_thin_parts_between_coarse_nodes_are_found():
    pts = g.level_set_points(thin_slab, 5_000, resolution=64, refine=4, rng=np.random.default_rng(1))
    assert len(pts) > 4_000
    assert np.abs(thin_slab(pts)).max() < 1e-4


def test_a_field_near_zero_everywhere_refines_a_bounded_random_subset_of_cells():
    evaluated = []

    def flat_sphere(points):  # every coarse cell passes the margin rule, as after a failed fit
        evaluated.append(len(points))
        return 1e-3 * (np.linalg.norm(points, axis=1) - 0.5)

    pts = g.level_set_points(flat_sphere, 1_000, resolution=32, refine=4, rng=np.random.default_rng(4))
    uncapped = (31 * 4 + 1) ** 3  # the fine nodes of every cell
    assert sum(evaluated) < 32**3 + g.level_set.CELLS_PER_POINT * 1_000 * 125 + 30 * 1_200 < uncapped / 5
    assert len(pts) == 1_000
    np.testing.assert_allclose(np.linalg.norm(pts, axis=1), 0.5, atol=1e-4)
    octants = np.bincount(((pts > 0) * [4, 2, 1]).sum(axis=1), minlength=8) / len(pts)
    np.testing.assert_allclose(octants, 1 / 8, atol=0.04)  # still spread by area


def test_torch_modules_use_autograd_and_empty_sets_give_no_points():
    class Sphere(torch.nn.Module):
        def forward(self, x):
            return x.norm(dim=1) - 0.3

    pts = g.level_set_points(Sphere(), 2_000, resolution=32, rng=np.random.default_rng(2))
    np.testing.assert_allclose(np.linalg.norm(pts, axis=1), 0.3, atol=1e-5)
    assert len(g.level_set_points(lambda p: np.ones(len(p)), 100, resolution=16)) == 0


def test_field_chamfer_matches_the_marching_cubes_check():
    mesh = trimesh.creation.icosphere(subdivisions=5, radius=0.5)
    reference, _ = g.surface_samples(g.Mesh(mesh.vertices, mesh.faces, source="sphere"), 60_000,
                                     np.random.default_rng(3))
    shifted = lambda p: np.linalg.norm(p - [0.02, 0, 0], axis=1) - 0.5  # noqa: E731
    points = metrics.field_chamfer(shifted, reference, n=20_000, resolution=128)
    grid = metrics.field_chamfer(shifted, reference, n=20_000, resolution=128, method="grid")
    assert points["chamfer"] == pytest.approx(grid["chamfer"], rel=0.1)
    assert points["fscore"] == pytest.approx(grid["fscore"], abs=0.03)
    assert metrics.field_chamfer(sphere, reference, n=20_000)["chamfer"] < points["chamfer"]
    nothing = metrics.field_chamfer(lambda p: np.ones(len(p)), reference, n=1_000, resolution=32)
    assert nothing == {"chamfer": float("inf"), "fscore": 0.0}
    with pytest.raises(ValueError, match="method"):
        metrics.field_chamfer(sphere, reference, method="dense")
