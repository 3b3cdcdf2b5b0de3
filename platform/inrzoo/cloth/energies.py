"""The cloth energies of SNUG (losses/physics.py, after ArcSim), in joules per mesh.

With rest state `ClothMesh` (see mesh.py) and deformed vertices x [B, V, 3] (or [V, 3]):

strain (StVK membrane): per triangle f, F = D_s D_m^-1 (D_s the deformed edge matrix [3, 2], D_m
    the rest one in the triangle's plane), Green strain G = (F^T F - I) / 2, energy density
    psi = mu tr(G^2) + lambda / 2 tr(G)^2, and E = sum_f A_f t psi_f (A_f rest area, t thickness).
bending: per interior edge, the dihedral angle theta = atan2(e . (n_a x n_b), n_a . n_b) between the
    two triangles' unit normals (0 when flat), E = sum_e k_b l_e^2 / (4 (A_a + A_b)) theta_e^2 / 2,
    rest length and areas (ArcSim's weighting; SNUG's rest angle is flat, so is this one).
gravity: E = sum_v m_v g z_v (z up), m_v the vertex masses.
collision: E = k_c sum_x max(eps - d(x), 0)^3, d(x) the signed distance of x to the surface along
    the normal of its nearest surface vertex (contact.signed_distances), eps the margin.
"""

from __future__ import annotations

import torch
from torch import Tensor

from inrzoo.cloth.contact import signed_distances
from inrzoo.cloth.mesh import ClothMesh, as_batch


def green_strain(cloth: ClothMesh, vertices: Tensor) -> Tensor:
    """G [B, F, 2, 2] of each triangle."""
    x = as_batch(vertices)
    corners = x[:, cloth.faces]  # [B, F, 3, 3]
    ds = torch.stack([corners[:, :, 1] - corners[:, :, 0], corners[:, :, 2] - corners[:, :, 0]], dim=-1)
    f = ds @ cloth.dm_inv  # [B, F, 3, 2]
    eye = torch.eye(2, dtype=x.dtype, device=x.device)
    return 0.5 * (f.transpose(-1, -2) @ f - eye)


def strain_energy(cloth: ClothMesh, vertices: Tensor) -> Tensor:
    """StVK membrane energy [B] (joules)."""
    g = green_strain(cloth, vertices)
    m = cloth.material
    trace = g.diagonal(dim1=-2, dim2=-1).sum(-1)
    psi = m.lame_mu * (g * g).sum((-1, -2)) + 0.5 * m.lame_lambda * trace**2  # tr(G^2) = |G|_F^2 (G symmetric)
    return (cloth.areas * m.thickness * psi).sum(-1)


def face_normals(cloth: ClothMesh, vertices: Tensor) -> Tensor:
    corners = as_batch(vertices)[:, cloth.faces]
    n = torch.cross(corners[:, :, 1] - corners[:, :, 0], corners[:, :, 2] - corners[:, :, 0], dim=-1)
    return n / n.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def dihedral_angles(cloth: ClothMesh, vertices: Tensor) -> Tensor:
    """theta [B, E] of every interior edge (0 flat, +-pi folded onto itself)."""
    x = as_batch(vertices)
    normals = face_normals(cloth, x)
    n_a, n_b = normals[:, cloth.hinge_faces[:, 0]], normals[:, cloth.hinge_faces[:, 1]]
    edge = x[:, cloth.hinges[:, 1]] - x[:, cloth.hinges[:, 0]]
    edge = edge / edge.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return torch.atan2((edge * torch.cross(n_a, n_b, dim=-1)).sum(-1), (n_a * n_b).sum(-1))


def bending_energy(cloth: ClothMesh, vertices: Tensor) -> Tensor:
    """Dihedral-angle bending energy [B] (joules)."""
    theta = dihedral_angles(cloth, vertices)
    return (cloth.material.bending_stiffness * cloth.hinge_scale * theta**2 / 2).sum(-1)


def gravity_energy(cloth: ClothMesh, vertices: Tensor) -> Tensor:
    """Potential energy [B] (joules) relative to z = 0."""
    return (cloth.masses * cloth.material.gravity * as_batch(vertices)[..., 2]).sum(-1)


def penetration_penalty(distances: Tensor, margin: float, stiffness: float, mask: Tensor | None = None) -> Tensor:
    """k sum max(margin - d, 0)^3 over the last axis (only where mask, if given)."""
    depth = torch.relu(margin - distances) ** 3
    if mask is not None:
        depth = depth * mask
    return stiffness * depth.sum(-1)


def collision_energy(cloth: ClothMesh, vertices: Tensor, surface: Tensor, normals: Tensor) -> Tensor:
    """Collision penalty [B] of the cloth's vertices against a surface (vertices [B, M, 3], outward
    unit normals [B, M, 3]) with the material's margin and stiffness."""
    distances, _ = signed_distances(as_batch(vertices), as_batch(surface), as_batch(normals))
    return penetration_penalty(distances, cloth.material.collision_margin, cloth.material.collision_stiffness)
