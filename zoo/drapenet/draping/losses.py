"""DrapeNet's physics self-supervision (thesis ch. 2; SNUG's energies, `inrzoo.cloth`).

For a garment draped on a body (vertices [B, N, 3], the body's vertices and outward normals):
    L_top    = E_strain + E_bending + E_gravity + E_collision
    L_bottom = L_top + lambda L_pin,  lambda = 0.1,
               L_pin = sum over pinned vertices of |B(beta, theta) . M(x, z)|^2 (metres^2): the
               bottom's own displacement is held back where the garment rests on the trunk, so
               that quasi-static gravity does not pull trousers and skirts down the legs.
               Pinned (chosen, the thesis names the region only): the vertices whose nearest
               body vertex in the canonical pose belongs to the torso.
    L_IS     = L_bottom (of the bottom moved by dx_IS) + gamma L_layer,  gamma = 0.5,
               L_layer = k_c sum max(eps - d_in, 0)^3 over the bottom's covered vertices, d_in the
               depth of a bottom vertex under the draped top along the top's inward normal at
               its nearest top vertex; covered (chosen) = that nearest top vertex is not on the
               top's open border (past a hem the bottom is not under the top). k_c and eps are the
               material's collision stiffness and margin: the layer is a collision with the top.
Energies are in joules per garment; the losses are their means over the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from inrzoo.cloth import ClothMesh, signed_distances
from inrzoo.cloth.energies import bending_energy, gravity_energy, penetration_penalty, strain_energy


@dataclass
class LossWeights:
    pin: float = 0.1  # lambda
    layer: float = 0.5  # gamma


def garment_energies(cloth: ClothMesh, vertices: Tensor, body: Tensor, body_normals: Tensor) -> dict[str, Tensor]:
    """Each energy [B] of a draped garment: strain, bending, gravity, collision with the body."""
    distances, _ = signed_distances(vertices, body, body_normals)
    m = cloth.material
    return {"strain": strain_energy(cloth, vertices), "bending": bending_energy(cloth, vertices),
            "gravity": gravity_energy(cloth, vertices),
            "collision": penetration_penalty(distances, m.collision_margin, m.collision_stiffness)}


def top_loss(energies: dict[str, Tensor]) -> Tensor:
    return energies["strain"] + energies["bending"] + energies["gravity"] + energies["collision"]


def pin_loss(pose_displacement: Tensor, pinned: Tensor) -> Tensor:
    """sum over pinned vertices of |Delta x|^2 [B]; pinned [N] bool."""
    return ((pose_displacement**2).sum(-1) * pinned.to(pose_displacement.dtype)).sum(-1)


def covered_depths(bottom: Tensor, top: Tensor, top_normals: Tensor, top_border: Tensor) -> tuple[Tensor, Tensor]:
    """(depth under the top [B, N], covered mask [B, N]) of bottom vertices: depth > 0 means the bottom
    vertex lies inside the top (where it should be); covered: its nearest top vertex is not on the
    top's border."""
    outside, index = signed_distances(bottom, top, top_normals)
    return -outside, ~top_border[index]


def layer_loss(cloth: ClothMesh, bottom: Tensor, top: Tensor, top_normals: Tensor, top_border: Tensor) -> Tensor:
    depth, covered = covered_depths(bottom, top, top_normals, top_border)
    m = cloth.material
    return penetration_penalty(depth, m.collision_margin, m.collision_stiffness, covered.to(depth.dtype))
