"""A physics reference for the draping metrics: the quasi-static drape of one outfit on one body,
found by minimizing the draping losses over the garment's vertices directly, with no networks.

A draping network minimizes the same energies through one map shared by every garment, body and
pose, so this per-outfit solve shows what the energies allow on that body and pose (up to the
solver's convergence). benchmarks/drapenet_drape.py reports it beside the ways of draping, so a
metric's headroom over the skinning baseline is visible.

Chosen (the thesis has no such reference): Adam on the vertex positions from nearest-vertex
skinning, learning rate 1 mm with a cosine decay over `steps` steps; the top under L_top, then the
bottom under L_IS against the solved top (L_bottom + gamma L_layer). L_pin, which in training holds
back the network's own displacement of the bottom's trunk vertices before skinning, is measured
here from the skinned start: the same quantity where skinning moves a region rigidly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from inrzoo.cloth import ClothMesh, vertex_normals
from inrzoo.zoo.drapenet.draping.losses import (LossWeights, Layering, garment_energies, layer_loss, pin_loss,
                                                top_loss)


@dataclass
class ReferenceSettings:
    steps: int = 2000
    lr: float = 1e-3  # metres: Adam's step is about this long per vertex at first

    def __post_init__(self) -> None:
        if self.steps < 1 or self.lr <= 0:
            raise ValueError(f"ReferenceSettings: steps must be >= 1 and lr > 0, got {self.steps}, {self.lr}")


def solve_garment(cloth: ClothMesh, start: Tensor, body: Tensor, body_normals: Tensor,
                  settings: ReferenceSettings, extra: Callable[[Tensor], Tensor] | None = None) -> Tensor:
    """Vertices [N, 3] minimizing L_top (+ extra(vertices [1, N, 3]) -> [1]) from `start` [N, 3]
    on a body (vertices, outward normals [1, V, 3])."""
    vertices = start.detach().clone()[None].requires_grad_(True)
    optimizer = torch.optim.Adam([vertices], lr=settings.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, settings.steps)
    for _ in range(settings.steps):
        optimizer.zero_grad()
        loss = top_loss(garment_energies(cloth, vertices, body, body_normals))
        if extra is not None:
            loss = loss + extra(vertices)
        loss.sum().backward()
        optimizer.step()
        schedule.step()
    return vertices.detach()[0]


@torch.enable_grad()
def solve_outfit(top_cloth: ClothMesh, bottom_cloth: ClothMesh, top_start: Tensor, bottom_start: Tensor,
                 pinned: Tensor, layering: Layering, body: Tensor, body_normals: Tensor,
                 settings: ReferenceSettings, weights: LossWeights | None = None) -> tuple[Tensor, Tensor]:
    """The top solved under L_top, then the bottom under L_IS against it: vertices [N_top, 3], [N_bottom, 3]."""
    w = weights or LossWeights()
    top = solve_garment(top_cloth, top_start, body, body_normals, settings)
    top_normals = vertex_normals(top[None], top_cloth.faces)

    def bottom_terms(vertices: Tensor) -> Tensor:
        pin = pin_loss(vertices - bottom_start[None], pinned)
        return w.pin * pin + w.layer * layer_loss(bottom_cloth, vertices, top[None], top_normals, layering)

    bottom = solve_garment(bottom_cloth, bottom_start, body, body_normals, settings, bottom_terms)
    return top, bottom
