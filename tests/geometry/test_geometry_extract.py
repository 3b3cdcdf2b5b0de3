"""Meshes, dense point clouds and voxels extracted back from fields, in the original frame."""

from pathlib import Path

import numpy as np
import pytest
import torch

import inrzoo.geometry as g

DATA = Path(__file__).resolve().parents[1] / "data" / "classic"


def test_extract_mesh_round_trips_a_real_mesh_through_its_sdf():
    mesh = g.load(DATA / "bunny.ply")
    normalized, similarity = g.normalize(mesh, "cube")
    resolution = 64
    extracted = g.extract_mesh(lambda p: g.signed_distance(normalized, p), resolution, bounds=(-1.05, 1.05), transform=similarity)
    assert extracted.is_watertight and extracted.volume > 0  # outward faces
    # Vertices of the extracted surface lie on the original surface, up to the grid's error.
    step = 2.1 / (resolution - 1) * similarity.scale
    assert np.abs(g.unsigned_distance(mesh, extracted.vertices)).max() < 0.5 * step
    assert extracted.volume == pytest.approx(mesh.to_trimesh().volume, rel=0.03)
    points, normals = g.surface_samples(extracted, 1000, np.random.default_rng(0))  # a Trimesh is a mesh too
    assert np.abs(g.unsigned_distance(mesh, points)).max() < step and normals.shape == (1000, 3)


def test_extract_mesh_accepts_torch_fields_and_reports_missing_surface():
    def sphere(points):
        return torch.linalg.norm(torch.as_tensor(points), dim=1) - 0.6

    extracted = g.extract_mesh(sphere, 48, batch_size=1000)
    np.testing.assert_allclose(np.linalg.norm(extracted.vertices, axis=1), 0.6, atol=2e-3)
    assert extracted.volume == pytest.approx(4 / 3 * np.pi * 0.6**3, rel=0.02)
    with pytest.raises(g.GeometryError, match="never crosses level 0"):
        g.extract_mesh(lambda p: np.ones(len(p)), 8)
    with pytest.raises(ValueError, match="returned 1 values"):
        g.extract_mesh(lambda p: np.ones(1), 8)


def test_points_from_udf_of_an_open_surface():
    mesh, _ = g.normalize(g.load(DATA / "cube-ouvert.off"), "cube")
    rng = np.random.default_rng(0)

    def udf(points):
        return g.unsigned_distance(mesh, points)

    def udf_gradient(points):
        return g.unsigned_distance(mesh, points, return_gradient=True)[1]

    exact = g.points_from_udf(udf, 5000, rng, gradient=udf_gradient, bounds=(-1.2, 1.2))
    assert exact.shape == (5000, 3) and exact.dtype == np.float32
    assert g.unsigned_distance(mesh, exact).max() < 1e-5
    # Central differences: same result up to the differencing error.
    settings = g.UdfProjection(threshold=0.1, batch_size=20_000, fd_step=1e-3)
    numeric = g.points_from_udf(udf, 5000, rng, bounds=(-1.2, 1.2), settings=settings)
    assert np.quantile(g.unsigned_distance(mesh, numeric), 0.99) < 1e-3
    # Points spread over all five sides, none on the open one (y = 1).
    sides = np.isclose(np.abs(numeric), 1.0, atol=1e-2)
    assert all((sides[:, axis] & (np.sign(numeric[:, axis]) == sign)).mean() > 0.1
               for axis, sign in [(0, -1), (0, 1), (1, -1), (2, -1), (2, 1)])
    assert (sides[:, 1] & (numeric[:, 1] > 0)).mean() < 0.05
    with pytest.raises(g.GeometryError, match="only 0 of 10 points"):
        g.points_from_udf(lambda p: np.ones(len(p)), 10, rng, settings=g.UdfProjection(max_rounds=2, batch_size=100))


def test_points_from_udf_in_the_original_frame():
    cloud = g.PointCloud(np.random.default_rng(1).normal(size=(4000, 3)) * 10 + 3, source="cloud")
    normalized, similarity = g.normalize(cloud, "sphere")
    points = g.points_from_udf(lambda p: g.unsigned_distance(normalized, p), 500, np.random.default_rng(2),
                               settings=g.UdfProjection(threshold=0.02), transform=similarity)
    assert g.unsigned_distance(cloud, points).max() < 0.05 * similarity.scale


def test_voxels_from_occupancy_in_the_original_frame():
    similarity = g.Similarity(np.array([10.0, 0.0, -5.0]), 4.0)
    resolution = 32

    def ball(points):  # probability-like occupancy of a ball of radius 0.5 (normalized frame)
        return (np.linalg.norm(points, axis=1) < 0.5).astype(np.float32)

    grid = g.voxels_from_occupancy(ball, resolution, transform=similarity, source="ball")
    assert grid.occupancy.shape == (resolution,) * 3 and grid.pitch == pytest.approx(2 / resolution * 4.0)
    volume = grid.occupancy.sum() * grid.pitch**3
    assert volume == pytest.approx(4 / 3 * np.pi * 2.0**3, rel=0.05)
    queries = similarity.invert(np.random.default_rng(3).uniform(-1, 1, (5000, 3)))
    radius = np.linalg.norm(similarity.apply(queries), axis=1)
    clear = np.abs(radius - 0.5) > 2 * np.sqrt(3) / resolution
    np.testing.assert_array_equal(g.occupancy(grid, queries)[clear], (radius < 0.5)[clear])
    with pytest.raises(g.GeometryError, match="ball: no voxel"):
        g.voxels_from_occupancy(lambda p: np.zeros(len(p)), 4, source="ball")
