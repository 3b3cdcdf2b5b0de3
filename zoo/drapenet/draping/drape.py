"""Draping a canonical garment on a body: x' = LBS_W(x)(x + dx(x, beta) + B(beta, theta) . M(x, z)).

`Draper` holds the body fields (W, dx; frozen, learned from anny), one deformation network per
garment category and the intersection solver. A garment point x lives in the canonical space
(anny's average body in its rest pose, metres); its skinning weights W(x) are read there, the
displacements are added there, and the sum is skinned with the body's bone transforms
T_j(beta, theta) (`inrzoo.bodies.rig.BodyRig`):

    top     x' = sum_j W_j(x) T_j (x + dx(x, beta) + Delta_top(x, z_top))
    bottom  x' = sum_j W_j(x) T_j (x + dx(x, beta) + Delta_bot(x, z_bot) [+ dx_IS(x, z_bot, z_top)])

The intersection solver's displacement is added to the bottom's in canonical space before
skinning, as in the released code (utils_drape.deforming_layer).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from inrzoo.bodies.rig import skin
from inrzoo.zoo.drapenet.draping.body_fields import BodyFields, BodyFieldsConfig
from inrzoo.zoo.drapenet.draping.networks import DeformationNetwork, pose_input

CATEGORIES = ("top", "bottom")


@dataclass
class Drape:
    """A draped garment [B, N, 3] and the canonical displacements that made it."""

    vertices: Tensor
    shape: Tensor  # dx(x, beta)
    pose: Tensor  # B . M
    solver: Tensor | None = None  # dx_IS (bottoms with the intersection solver)


class Draper(nn.Module):
    def __init__(self, bones: int, beta_dim: int, theta_dim: int, code_dim: int = 32, basis: int = 128,
                 hidden: int = 512, fields: BodyFieldsConfig | None = None, rest_anchored: bool = False) -> None:
        super().__init__()
        self.fields = BodyFields(bones, beta_dim, fields)
        self.fields.requires_grad_(False)  # learned from anny beforehand, frozen here (as in the thesis)
        pose_dim = theta_dim + beta_dim
        self.networks = nn.ModuleDict({c: DeformationNetwork(pose_dim, code_dim, basis, hidden, rest_anchored)
                                       for c in CATEGORIES})
        # the solver stays free at rest: a canonical bottom may still cross its canonical top there
        self.solver = DeformationNetwork(pose_dim, 2 * code_dim, basis, hidden)  # dx_IS(x, z_bot, z_top)

    def canonical(self, points: Tensor, beta: Tensor) -> tuple[Tensor, Tensor]:
        """(W(x) [B, N, J], dx(x, beta) [B, N, 3]) of canonical points [B, N, 3]; no gradients."""
        with torch.no_grad():
            return self.fields.weights(points), self.fields.displacement(points, beta)

    def drape(self, category: str, points: Tensor, codes: Tensor, beta: Tensor, theta: Tensor, transforms: Tensor,
              top_codes: Tensor | None = None, pose: Tensor | None = None) -> Drape:
        """Drape canonical points [B, N, 3] of garments of `category` (codes [B, C]) on bodies
        (beta [B, S], theta [B, P, 3], their bone transforms [B, J, 4, 4]). With `top_codes`, a
        bottom also gets the intersection solver's displacement; a given `pose` displacement is used
        instead of running the category's network (the solver's training passes it detached)."""
        if category not in self.networks:
            raise ValueError(f"garment category must be one of {CATEGORIES}, got {category!r}")
        weights, shape = self.canonical(points, beta)
        conditioning = pose_input(beta, theta)
        if pose is None:
            pose = self.networks[category](conditioning, points, codes)
        solver = None
        offset = shape + pose
        if top_codes is not None:
            if category != "bottom":
                raise ValueError("the intersection solver moves bottoms; got top codes for a top")
            solver = self.solver(conditioning, points, torch.cat([codes, top_codes], dim=-1))
            offset = offset + solver
        return Drape(skin(points + offset, weights, transforms), shape, pose, solver)

    def skinning_baseline(self, points: Tensor, beta: Tensor, transforms: Tensor) -> Tensor:
        """The same skinning with no learned garment displacement (ablation)."""
        weights, shape = self.canonical(points, beta)
        return skin(points + shape, weights, transforms)
