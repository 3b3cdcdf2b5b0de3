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
               depth of a bottom vertex under the draped top along the inward normal of its partner
               top vertex. Coverage and partners (chosen; the thesis names the term only) come from
               the canonical outfit, where both garments rest on the same body: a bottom point's
               partner is its nearest canonical top vertex, and the point is covered when that
               vertex is not on the top's open border (past a hem the bottom is not under the top)
               and lies within COVER_RADIUS. Posed nearest vertices would pair a trouser leg with a
               raised sleeve. k_c and eps are the material's collision stiffness and margin: the
               layer is a collision with the top.
Energies are in joules per garment; the losses are their means over the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from inrzoo.cloth import ClothMesh, nearest_indices, signed_distances
from inrzoo.cloth.energies import bending_energy, gravity_energy, penetration_penalty, strain_energy


COVER_RADIUS = 0.1  # m (chosen): a flared dress over shorts lies up to ~10 cm out from them


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


@dataclass
class Layering:
    """How a canonical outfit's top covers points of its bottom (vertices or face centres)."""

    covered: Tensor  # [N] bool
    partner: Tensor  # [N] the nearest canonical top vertex


def outfit_layering(bottom_points: Tensor, top_rest: Tensor, top_border: Tensor,
                    radius: float = COVER_RADIUS) -> Layering:
    """Coverage of canonical bottom points [N, 3] by the canonical top (vertices [M, 3], border [M])."""
    partner = nearest_indices(bottom_points[None].detach(), top_rest[None].detach())[0]
    distance = (bottom_points - top_rest[partner]).norm(dim=-1)
    return Layering(~top_border[partner] & (distance < radius), partner)


def covered_depths(bottom: Tensor, top: Tensor, top_normals: Tensor, layering: Layering) -> Tensor:
    """Depth [B, N] of draped bottom points under the draped top (vertices, normals [B, M, 3]) along
    each point's partner's inward normal: > 0 inside the top, where a bottom belongs."""
    outside, _ = signed_distances(bottom, top, top_normals, layering.partner.expand(bottom.shape[0], -1))
    return -outside


def layer_loss(cloth: ClothMesh, bottom: Tensor, top: Tensor, top_normals: Tensor, layering: Layering) -> Tensor:
    depth = covered_depths(bottom, top, top_normals, layering)
    m = cloth.material
    return penetration_penalty(depth, m.collision_margin, m.collision_stiffness, layering.covered.to(depth.dtype))
