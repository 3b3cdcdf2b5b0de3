"""MeshUDF on analytic open surfaces, checked against their exact geometry."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from inrzoo.geometry.meshudf import mesh_udf
from inrzoo.metrics import chamfer
from mesh_helpers import boundary_loops

DISK_RADIUS, DISK_Z = 0.5, 0.013  # off the grid planes, so no grid vertex lies exactly on it
CYL_RADIUS, CYL_HALF = 0.4, 0.5


def disk_udf(p):
    rho = np.hypot(p[:, 0], p[:, 1])
    return np.hypot(np.maximum(rho - DISK_RADIUS, 0.0), p[:, 2] - DISK_Z)


def cylinder_udf(p):
    rho = np.hypot(p[:, 0], p[:, 1])
    return np.hypot(rho - CYL_RADIUS, np.maximum(np.abs(p[:, 2]) - CYL_HALF, 0.0))


def cylinder_gradient(p):
    """Exact gradient: the unit vector from the closest point of the open cylinder."""
    rho = np.hypot(p[:, 0], p[:, 1])
    radial = p[:, :2] / rho[:, None]
    closest = np.concatenate([radial * CYL_RADIUS, np.clip(p[:, 2:], -CYL_HALF, CYL_HALF)], axis=1)
    offset = p - closest
    return offset / np.maximum(np.linalg.norm(offset, axis=1, keepdims=True), 1e-12)


def exact_disk(n, rng):
    r = DISK_RADIUS * np.sqrt(rng.random(n))
    t = rng.uniform(0, 2 * np.pi, n)
    return np.stack([r * np.cos(t), r * np.sin(t), np.full(n, DISK_Z)], axis=1)


def exact_cylinder(n, rng):
    t = rng.uniform(0, 2 * np.pi, n)
    return np.stack([CYL_RADIUS * np.cos(t), CYL_RADIUS * np.sin(t), rng.uniform(-CYL_HALF, CYL_HALF, n)], axis=1)


@pytest.mark.parametrize("resolution", [33, 65])
def test_disk_is_one_open_sheet_on_the_exact_disk(resolution):
    h = 2 / (resolution - 1)
    mesh = mesh_udf(disk_udf, resolution)
    rng = np.random.default_rng(0)
    assert boundary_loops(mesh.faces) == 1
    assert disk_udf(mesh.vertices).max() < 0.6 * h  # every vertex on the disk
    assert chamfer(trimesh.sample.sample_surface(mesh, 20_000, seed=0)[0], exact_disk(20_000, rng)) < 0.25 * h
    # Its rim: boundary vertices at the disk's radius, less about h/2 (faces reaching u > h/2 are cut).
    edges = mesh.edges_sorted
    unique, counts = np.unique(edges, axis=0, return_counts=True)
    rim = np.unique(unique[counts == 1])
    rho = np.hypot(mesh.vertices[rim, 0], mesh.vertices[rim, 1])
    assert DISK_RADIUS - 1.25 * h < rho.min() and rho.max() < DISK_RADIUS + 0.25 * h
    assert np.abs(rho - DISK_RADIUS).mean() < 0.75 * h
    assert np.pi * (DISK_RADIUS - h) ** 2 < mesh.area < np.pi * DISK_RADIUS**2


@pytest.mark.parametrize("with_gradient", [True, False])
def test_open_cylinder_has_two_rims_and_no_holes(with_gradient):
    resolution = 65
    h = 2 / (resolution - 1)
    mesh = mesh_udf(cylinder_udf, resolution, gradient=cylinder_gradient if with_gradient else None)
    assert boundary_loops(mesh.faces) == 2
    assert cylinder_udf(mesh.vertices).max() < 0.6 * h
    exact = exact_cylinder(20_000, np.random.default_rng(1))
    assert chamfer(trimesh.sample.sample_surface(mesh, 20_000, seed=0)[0], exact) < 0.25 * h
    # No holes: every exact surface point lies within a grid step of the mesh.
    from scipy.spatial import cKDTree

    gaps = cKDTree(trimesh.sample.sample_surface(mesh, 60_000, seed=1)[0]).query(exact)[0]
    assert gaps.max() < h
    assert mesh.area == pytest.approx(2 * np.pi * CYL_RADIUS * 2 * CYL_HALF, rel=0.05)


def test_two_close_sheets_stay_two_sheets():
    # Parallel squares 4 grid steps apart: between them the UDF has a ridge, not a surface.
    resolution = 65
    h = 2 / (resolution - 1)
    gap = 4 * h

    def sheets(p):
        inside = np.maximum(np.abs(p[:, 0]) - 0.5, 0.0), np.maximum(np.abs(p[:, 1]) - 0.5, 0.0)
        planar = np.hypot(*inside)
        return np.minimum(np.hypot(planar, p[:, 2] - gap / 2 - 0.007), np.hypot(planar, p[:, 2] + gap / 2 - 0.007))

    mesh = mesh_udf(sheets, resolution)
    assert sheets(mesh.vertices).max() < 0.6 * h
    assert len(mesh.split(only_watertight=False)) == 2
    assert boundary_loops(mesh.faces) == 2


def test_a_field_with_no_surface_gives_an_empty_mesh_and_bad_resolution_is_refused():
    assert len(mesh_udf(lambda p: np.full(len(p), 0.5), 17).faces) == 0
    with pytest.raises(ValueError, match="resolution"):
        mesh_udf(disk_udf, 2)
