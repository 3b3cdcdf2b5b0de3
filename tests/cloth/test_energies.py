"""Cloth energies on toy meshes with known answers (issue 16): a stretched square, a folded pair of
triangles, a plane under gravity, a point inside a sphere."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from inrzoo.cloth import (ClothMesh, Material, bending_energy, collision_energy, gravity_energy, signed_distances,
                          strain_energy, vertex_normals)
from inrzoo.cloth.energies import dihedral_angles

SQUARE = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], dtype=np.float64)
SQUARE_FACES = np.array([[0, 1, 2], [0, 2, 3]])


def tensor(a) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a), dtype=torch.float64)


def cloth(vertices, faces, material=None) -> ClothMesh:
    return ClothMesh(vertices, faces, material, dtype=torch.float64)


def test_material_has_snug_constants():
    m = Material()
    assert m.area_density == pytest.approx(0.2002, rel=1e-3)  # 426 kg/m^3 x 0.47 mm
    assert m.bending_stiffness == pytest.approx(3.96e-5, rel=1e-2)  # SNUG's k_b
    a = 0.7e5 / (1 - 0.485**2)
    assert m.lame_mu == pytest.approx(a * (1 - 0.485) / 2) and m.lame_lambda == pytest.approx(a * 0.485)
    with pytest.raises(ValueError, match="poisson_ratio"):
        Material(poisson_ratio=0.5)


def test_rest_square_has_no_strain_and_a_stretched_one_the_stvk_energy():
    c = cloth(SQUARE, SQUARE_FACES)
    assert float(strain_energy(c, tensor(SQUARE))) == pytest.approx(0.0, abs=1e-12)
    # Rigid motions cost nothing either.
    turn = torch.tensor([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]], dtype=torch.float64)
    assert float(strain_energy(c, tensor(SQUARE) @ turn.T + 3.0)) == pytest.approx(0.0, abs=1e-9)
    for s in (1.1, 0.9, 1.5):
        stretched = SQUARE * [s, 1, 1]
        g = (s**2 - 1) / 2  # Green strain G = diag(g, 0)
        m = c.material
        expected = 1.0 * m.thickness * (m.lame_mu * g**2 + 0.5 * m.lame_lambda * g**2)
        assert float(strain_energy(c, tensor(stretched))) == pytest.approx(expected, rel=1e-9)
    # Equal stretch in both directions: G = g I, psi = mu 2 g^2 + lambda/2 (2 g)^2.
    s, m = 1.2, c.material
    g = (s**2 - 1) / 2
    expected = m.thickness * (2 * m.lame_mu * g**2 + 2 * m.lame_lambda * g**2)
    assert float(strain_energy(c, tensor(SQUARE * [s, s, 1]))) == pytest.approx(expected, rel=1e-9)


def folded(angle: float) -> np.ndarray:
    """The square folded about its diagonal 0-2 by `angle` (vertex 3 leaves the plane)."""
    axis = np.array([1.0, 1.0, 0.0]) / math.sqrt(2)
    p = SQUARE[3] - axis * (SQUARE[3] @ axis)  # component of vertex 3 perpendicular to the hinge
    out = SQUARE.copy()
    out[3] = axis * (SQUARE[3] @ axis) + math.cos(angle) * p + math.sin(angle) * np.cross(axis, p)
    assert abs(np.linalg.norm(out[3] - axis * (SQUARE[3] @ axis)) - np.linalg.norm(p)) < 1e-12
    return out


@pytest.mark.parametrize("angle", [0.0, 0.3, 1.0, 2.0])
def test_folded_pair_of_triangles_bends_by_its_fold_angle(angle):
    c = cloth(SQUARE, SQUARE_FACES)
    assert c.hinges.shape == (1, 4)
    theta = dihedral_angles(c, tensor(folded(angle)))
    assert abs(float(theta[0])) == pytest.approx(angle, abs=1e-9)
    # k_b l^2 / (4 (A_a + A_b)) theta^2 / 2 with l = sqrt 2 (the diagonal), A_a = A_b = 1/2.
    expected = c.material.bending_stiffness * 2.0 / (4 * 1.0) * angle**2 / 2
    assert float(bending_energy(c, tensor(folded(angle)))) == pytest.approx(expected, rel=1e-9, abs=1e-15)
    # A fold is not a stretch.
    assert float(strain_energy(c, tensor(folded(angle)))) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("height", [0.0, 0.5, 2.0])
def test_plane_under_gravity_has_mass_times_g_times_height(height):
    c = cloth(SQUARE, SQUARE_FACES)
    assert float(c.masses.sum()) == pytest.approx(c.material.area_density * 1.0)
    lifted = SQUARE + [0, 0, height]
    assert float(gravity_energy(c, tensor(lifted))) == pytest.approx(c.material.area_density * 9.81 * height)


def sphere(radius: float = 1.0, subdivisions: int = 3):
    import trimesh

    mesh = trimesh.creation.icosphere(subdivisions=subdivisions, radius=radius)
    return tensor(mesh.vertices), torch.as_tensor(mesh.faces)


def test_point_inside_a_sphere_pays_the_cubed_depth_plus_margin():
    vertices, faces = sphere()
    normals = vertex_normals(vertices, faces)
    assert float((normals * vertices).sum(-1).min()) > 0.99  # outward
    direction = vertices[0] / vertices[0].norm()  # straight under a vertex, so that vertex is nearest
    for r in (0.5, 0.9, 0.999, 1.2):
        point = (r * direction)[None, None]
        d, index = signed_distances(point, vertices[None], normals[None])
        assert float(d) == pytest.approx(r - 1.0, abs=1e-9) and int(index) == 0
    m = Material()
    point_cloth = cloth(np.array([[0, 0, 0], [1e-3, 0, 0], [0, 1e-3, 0]]), np.array([[0, 1, 2]]), m)
    inside = (0.9 * direction)[None].expand(3, 3).clone()
    energy = collision_energy(point_cloth, inside, vertices, normals)
    assert float(energy) == pytest.approx(3 * m.collision_stiffness * (m.collision_margin + 0.1) ** 3, rel=1e-6)
    outside = (1.5 * direction)[None].expand(3, 3).clone()
    assert float(collision_energy(point_cloth, outside, vertices, normals)) == 0.0


def test_energies_are_batched_and_differentiable():
    c = cloth(SQUARE, SQUARE_FACES)
    x = tensor(np.stack([SQUARE * [1.1, 1, 1], folded(0.5)])).requires_grad_(True)
    total = strain_energy(c, x) + bending_energy(c, x) + gravity_energy(c, x)
    assert total.shape == (2,)
    total.sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_bad_meshes_are_refused():
    with pytest.raises(ValueError, match="degenerate"):
        ClothMesh(np.zeros((3, 3)), np.array([[0, 1, 2]]))
    with pytest.raises(ValueError, match="outside"):
        ClothMesh(SQUARE, np.array([[0, 1, 7]]))


def test_open_boundary_and_hinges_of_a_strip():
    vertices = np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0], [0, 1, 0], [1, 1, 0], [2, 1, 0]], dtype=float)
    faces = np.array([[0, 1, 4], [0, 4, 3], [1, 2, 5], [1, 5, 4]])
    c = cloth(vertices, faces)
    assert c.hinges.shape[0] == 3  # two diagonals and the middle edge
    assert bool(c.boundary.all())  # every vertex of a strip is on its border
