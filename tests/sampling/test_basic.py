"""Surface, uniform and voxel-centroid samplers."""

from __future__ import annotations

import numpy as np
import pytest

from inrzoo.sampling import SurfaceSampler, UniformSampler, VoxelCentroidSampler


def test_surface_samples_lie_on_the_surface_with_unit_normals(sphere):
    s = SurfaceSampler(n=5_000).sample(sphere, 0)
    assert s.field == "sdf" and np.all(s.values == 0.0)
    radius = np.linalg.norm(s.points, axis=1)
    np.testing.assert_allclose(radius, 0.5, atol=1e-3)
    np.testing.assert_allclose(np.linalg.norm(s.normals, axis=1), 1.0, atol=1e-5)
    # Outward normals of a sphere point along the position.
    assert np.mean(np.sum(s.normals * s.points / radius[:, None], axis=1)) > 0.99


def test_uniform_cube_and_sphere_domains(sphere):
    cube = UniformSampler(n=20_000, extent=0.8).sample(sphere, 1)
    assert np.abs(cube.points).max() <= 0.8 and np.abs(cube.points).max() > 0.79
    ball = UniformSampler(n=20_000, domain="sphere").sample(sphere, 1)
    assert np.linalg.norm(ball.points, axis=1).max() <= 1.0 + 1e-6
    # sdf of the radius-0.5 sphere: |x| - 0.5 (up to the icosphere's facets).
    np.testing.assert_allclose(ball.values, np.linalg.norm(ball.points, axis=1) - 0.5, atol=2e-3)
    with pytest.raises(ValueError, match="domain"):
        UniformSampler(domain="torus")


def test_voxel_centroids_of_a_grid_give_back_its_occupancy(voxels):
    s = VoxelCentroidSampler().sample(voxels, 2)
    assert s.field == "occupancy" and len(s) == voxels.occupancy.size
    np.testing.assert_array_equal(s.values.reshape(voxels.occupancy.shape), voxels.occupancy)
    index = np.indices(voxels.occupancy.shape).reshape(3, -1).T
    np.testing.assert_allclose(s.points, voxels.centers(index), atol=1e-6)


def test_voxel_centroids_on_a_regular_grid_of_a_mesh(sphere):
    s = VoxelCentroidSampler(resolution=16, field="occupancy").sample(sphere, 3)
    assert len(s) == 16**3
    assert np.abs(s.points).max() == pytest.approx(1 - 1 / 16)
    inside = np.linalg.norm(s.points, axis=1) < 0.5
    assert np.mean(s.values.astype(bool) == inside) > 0.99
    with pytest.raises(ValueError, match="needs a resolution"):
        VoxelCentroidSampler().sample(sphere, 3)
