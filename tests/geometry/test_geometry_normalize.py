"""Normalization into the unit sphere / [-1,1] cube, its invertible transform, surface samples."""

import json
from pathlib import Path

import numpy as np
import pytest

import inrzoo.geometry as g

DATA = Path(__file__).resolve().parents[1] / "data" / "classic"


@pytest.mark.parametrize("mode", ["sphere", "cube"])
def test_normalize_mesh_and_invert(mode):
    mesh = g.load(DATA / "open_cube.off")  # a 100-unit cube at the positive octant
    normalized, similarity = g.normalize(mesh, mode)
    assert normalized.source == mesh.source
    if mode == "sphere":
        assert np.linalg.norm(normalized.vertices, axis=1).max() == pytest.approx(1.0)
    else:
        np.testing.assert_allclose(normalized.bounds, [[-1, -1, -1], [1, 1, 1]])
    np.testing.assert_allclose(similarity.invert(normalized.vertices), mesh.vertices, atol=1e-12)
    np.testing.assert_allclose(similarity.apply(mesh.vertices), normalized.vertices)
    # Distances scale with the transform.
    q = np.array([[150.0, 50.0, 50.0]])
    np.testing.assert_allclose(g.unsigned_distance(normalized, similarity.apply(q)), similarity.apply_distance(g.unsigned_distance(mesh, q)), rtol=1e-6)


def test_similarity_serializes_to_json_and_composes():
    similarity = g.Similarity(np.array([1.0, -2.0, 3.5]), 2.5)
    restored = g.Similarity.from_dict(json.loads(json.dumps(similarity.to_dict())))
    np.testing.assert_array_equal(restored.center, similarity.center)
    assert restored.scale == similarity.scale
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    assert similarity.apply(x).dtype == np.float32
    other = g.Similarity(np.array([0.5, 0.0, 0.0]), 4.0)
    np.testing.assert_allclose(similarity.then(other).apply(x), other.apply(similarity.apply(x)), rtol=1e-6)
    with pytest.raises(ValueError, match="scale"):
        g.Similarity(np.zeros(3), 0.0)
    with pytest.raises(ValueError, match="center"):
        g.Similarity.from_dict({"scale": 1.0})


def test_normalize_point_cloud_and_voxels():
    rng = np.random.default_rng(1)
    points = rng.normal(size=(100, 3)) * 5 + 7
    normals = rng.normal(size=(100, 3))
    cloud, sim = g.normalize(g.PointCloud(points, normals, source="c"), "cube")
    assert np.abs(cloud.points).max() == pytest.approx(1.0)
    np.testing.assert_array_equal(cloud.normals, normals)
    occupancy = np.zeros((8, 8, 8), dtype=bool)
    occupancy[2:6, 3:5, 1:7] = True
    grid, sim = g.normalize(g.VoxelGrid(occupancy, [10.0, 0.0, 0.0], 0.5, source="v"), "cube")
    np.testing.assert_allclose(grid.bounds.max(), 1.0)
    np.testing.assert_allclose(grid.bounds.min(axis=0).min(), -1.0)
    grid, _ = g.normalize(g.VoxelGrid(occupancy, [10.0, 0.0, 0.0], 0.5, source="v"), "sphere")
    corners = grid.bounds
    assert np.linalg.norm(corners, axis=1).max() == pytest.approx(1.0)
    with pytest.raises(g.GeometryError, match="v: unknown normalization mode"):
        g.normalize(grid, "ball")


def test_mesh_surface_samples_lie_on_the_surface_area_weighted():
    mesh = g.load(DATA / "cube-ouvert.off")  # five equal sides of the [-1,1] cube; y=1 is open
    points, normals = g.surface_samples(mesh, 20_000, np.random.default_rng(0))
    assert points.dtype == np.float32 and normals.dtype == np.float32 and points.shape == (20_000, 3)
    np.testing.assert_allclose(g.unsigned_distance(mesh, points), 0.0, atol=1e-6)
    on_side = np.isclose(np.abs(points), 1.0, atol=1e-6)
    # Equal-area sides get equal shares (each 1/5), whatever their triangle count.
    shares = [(on_side[:, axis] & (np.sign(points[:, axis]) == sign)).mean() for axis in range(3) for sign in (-1, 1)]
    np.testing.assert_allclose(sorted(shares), [0, 0.2, 0.2, 0.2, 0.2, 0.2], atol=0.015)
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-6)
    same = g.surface_samples(mesh, 100, np.random.default_rng(5))[0]
    np.testing.assert_array_equal(same, g.surface_samples(mesh, 100, np.random.default_rng(5))[0])


def test_cloud_and_voxel_surface_samples():
    rng = np.random.default_rng(2)
    cloud = g.PointCloud(rng.normal(size=(50, 3)), rng.normal(size=(50, 3)), source="c")
    points, normals = g.surface_samples(cloud, 50, rng)
    assert len(np.unique(points, axis=0)) == 50 and normals.shape == (50, 3)
    assert len(g.surface_samples(cloud, 200, rng)[0]) == 200
    occupancy = np.zeros((5, 5, 5), dtype=bool)
    occupancy[1:4, 1:4, 1:4] = True
    grid = g.VoxelGrid(occupancy, np.zeros(3), 1.0, source="v")
    points, normals = g.surface_samples(grid, 1000, rng)
    assert normals is None
    centres = {tuple(p) for p in points.tolist()}
    assert (2.5, 2.5, 2.5) not in centres and len(centres) == 26  # all boundary voxels, not the core
