"""Points on the surface of a shape: area-weighted on meshes, subsampled from point clouds,
boundary voxel centres for voxel grids."""

from __future__ import annotations

import numpy as np

from .io import as_shape
from .shapes import GeometryError, Mesh, PointCloud, Shape, VoxelGrid


def face_areas_normals(mesh: Mesh) -> tuple[np.ndarray, np.ndarray]:
    """Area [F] and unit normal [F,3] of every face (zero normal for degenerate faces)."""
    corners = mesh.vertices[mesh.faces]
    cross = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    double_area = np.linalg.norm(cross, axis=1)
    normals = np.divide(cross, double_area[:, None], out=np.zeros_like(cross), where=double_area[:, None] > 0)
    return double_area / 2, normals


def _mesh_samples(mesh: Mesh, n: int, rng: np.random.Generator):
    areas, normals = face_areas_normals(mesh)
    total = areas.sum()
    if not total > 0:
        raise GeometryError(mesh.source, "all faces are degenerate (zero total area)")
    face = rng.choice(len(areas), size=n, p=areas / total)
    # Uniform barycentric coordinates by folding the unit square onto the triangle.
    u, v = rng.random(n), rng.random(n)
    fold = u + v > 1
    u[fold], v[fold] = 1 - u[fold], 1 - v[fold]
    a, b, c = (mesh.vertices[mesh.faces[face, i]] for i in range(3))
    points = a + u[:, None] * (b - a) + v[:, None] * (c - a)
    return points.astype(np.float32), normals[face].astype(np.float32)


def _cloud_samples(cloud: PointCloud, n: int, rng: np.random.Generator):
    # Without replacement while the cloud is big enough, so no point repeats.
    index = rng.choice(len(cloud.points), size=n, replace=n > len(cloud.points))
    normals = None if cloud.normals is None else cloud.normals[index].astype(np.float32)
    return cloud.points[index].astype(np.float32), normals


def _voxel_samples(grid: VoxelGrid, n: int, rng: np.random.Generator):
    boundary = grid.boundary_index()
    index = rng.choice(len(boundary), size=n, replace=n > len(boundary))
    return grid.centers(boundary[index]).astype(np.float32), None


def surface_samples(shape: Shape, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
    """n surface points float32 [n,3] and their normals float32 [n,3] (None when unknown).

    A trimesh object (what extract_mesh returns) or a path is accepted too.
    """
    if n < 0:
        raise ValueError(f"number of surface samples must be >= 0, got {n}")
    shape = as_shape(shape)
    if isinstance(shape, Mesh):
        return _mesh_samples(shape, n, rng)
    if isinstance(shape, PointCloud):
        return _cloud_samples(shape, n, rng)
    if isinstance(shape, VoxelGrid):
        return _voxel_samples(shape, n, rng)
    raise TypeError(f"not a shape: {type(shape).__name__}")
