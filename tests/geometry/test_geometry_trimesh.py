"""trimesh in and out: every function that takes a shape takes a trimesh object or a path too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh

from inrzoo import geometry, metrics, sampling

BUNNY = Path(__file__).resolve().parents[1] / "data" / "classic" / "bunny.ply"


@pytest.fixture
def ball():
    return trimesh.creation.icosphere(subdivisions=3, radius=0.5)


def test_distances_take_trimesh_objects_and_paths(ball):
    points = np.random.default_rng(0).uniform(-0.8, 0.8, (500, 3))
    exact = np.linalg.norm(points, axis=1) - 0.5
    np.testing.assert_allclose(geometry.signed_distance(ball, points), exact, atol=0.01)
    np.testing.assert_allclose(geometry.unsigned_distance(ball, points), np.abs(exact), atol=0.01)
    np.testing.assert_array_equal(geometry.occupancy(ball, points), geometry.signed_distance(ball, points) < 0)
    scene = trimesh.Scene([ball])
    np.testing.assert_allclose(geometry.ground_truth(scene, points, "sdf"), geometry.signed_distance(ball, points))
    loaded = geometry.load(str(BUNNY))
    np.testing.assert_array_equal(geometry.signed_distance(BUNNY, points[:20]), geometry.signed_distance(loaded, points[:20]))
    np.testing.assert_array_equal(geometry.winding_number(str(BUNNY), points[:20]),
                                  geometry.winding_number(loaded, points[:20]))


def test_signed_distance_gradient_matches_finite_differences(ball):
    points = np.array([[0.9, 0.0, 0.0], [0.1, 0.25, -0.15], [0.2, -0.3, 0.6]])  # off the medial axis
    values, gradient = geometry.signed_distance(ball, points, return_gradient=True)
    h = 1e-4
    numeric = np.stack([(geometry.signed_distance(ball, points + h * e) - geometry.signed_distance(ball, points - h * e))
                        / (2 * h) for e in np.eye(3)], axis=1)
    np.testing.assert_allclose(gradient, numeric, atol=2e-3)
    assert values[0] > 0 > values[1]


def test_a_trimesh_converts_once_and_follows_its_changes(ball):
    assert geometry.as_shape(ball) is geometry.as_shape(ball)
    moved = ball.copy()
    moved.apply_translation([1.0, 0.0, 0.0])
    assert geometry.as_shape(moved).bounds[0, 0] == pytest.approx(0.5, abs=1e-6)
    with pytest.raises(TypeError, match="not a shape: int"):
        geometry.as_shape(3)


def test_normalizing_a_trimesh_gives_a_trimesh(ball):
    shape, similarity = geometry.normalize(ball.copy().apply_scale(3.0))
    assert isinstance(shape, trimesh.Trimesh)
    assert np.linalg.norm(shape.vertices, axis=1).max() == pytest.approx(1.0, abs=1e-6)
    assert similarity.scale == pytest.approx(1.5, rel=1e-3)


def test_samplers_and_metrics_take_trimesh(ball):
    samples = sampling.get("importance", n=1000, pool_size=10_000).sample(ball, 0)
    assert samples.points.shape == (1000, 3) and samples.field == "sdf"
    error = metrics.surface_error(lambda x: np.linalg.norm(x, axis=1) - 0.5, ball, n=2000)
    assert error < 0.01
    points, normals = geometry.surface_samples(str(BUNNY), 50, np.random.default_rng(0))
    assert points.shape == (50, 3) and normals.shape == (50, 3)
