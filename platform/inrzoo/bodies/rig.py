"""anny as batched torch tensors for draping: shape beta, pose theta, skinning transforms.

    rig = BodyRig()                                   # builds anny (float32, CPU)
    beta = torch.full((2, 6), 0.5); theta = torch.zeros(2, len(POSED_BONES), 3)
    out = rig(beta, theta)                            # rest and posed vertices, bone transforms
    posed = skin(points, weights, out.transforms)     # linear blend skinning of any points

beta is anny's phenotype vector (rig.phenotype_labels, each in [0, 1]; 0.5 is the average body,
the canonical shape garments are made on); theta [B, P, 3] the axis-angle rotation of each of
POSED_BONES in its own rest frame (anny's "local-bone" parameterization; the root stays put).
The canonical space is the average body in anny's rest pose: a point x there reaches the body of
(beta, theta) as sum_j w_j(x) T_j(beta, theta) (x + dx(x, beta)), with T_j = (posed bone pose)
(rest bone pose of beta)^-1, which is exactly what anny does to its own vertices (dx at a vertex
is the displacement its phenotype blend shapes give it). Everything runs offline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from inrzoo.bodies.anny_model import AnnyBodyModel
from inrzoo.bodies.poses import POSED_BONES, PoseSampler

logger = logging.getLogger(__name__)


@dataclass
class RigOutput:
    rest_vertices: Tensor  # [B, V, 3] the body of beta in the rest pose
    vertices: Tensor  # [B, V, 3] posed
    transforms: Tensor  # [B, J, 4, 4] per-bone skinning transforms (rest of beta -> posed)


def skin(points: Tensor, weights: Tensor, transforms: Tensor) -> Tensor:
    """Linear blend skinning: points [B, N, 3], weights [B, N, J] (or [N, J]), transforms [B, J, 4, 4]."""
    if weights.dim() == 2:
        weights = weights.expand(points.shape[0], -1, -1)
    blend = torch.einsum("bnj,bjik->bnik", weights, transforms[:, :, :3, :])  # [B, N, 3, 4]
    return (blend[..., :3] * points[..., None, :]).sum(-1) + blend[..., 3]


class BodyRig(nn.Module):
    """Batched anny: (beta [B, S], theta [B, P, 3]) -> RigOutput; float32 on the CPU by default."""

    def __init__(self, bones: tuple[str, ...] = POSED_BONES, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        body_model = AnnyBodyModel()  # builds anny once (cached on disk by anny)
        self.anny = body_model.model.to(dtype=dtype)
        self.phenotype_labels = list(body_model.phenotype_labels)
        self.bone_labels = list(body_model.bone_labels)
        unknown = [b for b in bones if b not in self.bone_labels]
        if unknown:
            raise ValueError(f"posed bone(s) {unknown} are not anny bones")
        self.bones = tuple(bones)
        self.register_buffer("bone_index", torch.tensor([self.bone_labels.index(b) for b in bones]), persistent=False)
        self.register_buffer("faces", torch.as_tensor(body_model.faces), persistent=False)
        self.parts = body_model.parts  # numpy [V], index into inrzoo.bodies.PARTS
        weights = self.anny.dense_vertex_bone_weights if hasattr(self.anny, "dense_vertex_bone_weights") else None
        if weights is None:
            from anny.skinning.skinning import dense_bone_weights

            weights = dense_bone_weights(self.anny.vertex_bone_weights, self.anny.vertex_bone_indices,
                                         len(self.bone_labels))
        self.register_buffer("weights", weights.to(dtype), persistent=False)  # [V, J] anny's skinning weights
        with torch.no_grad():
            average = self.anny(phenotype_kwargs=self.average_beta(1).to(dtype))
        self.register_buffer("canonical_vertices", average["rest_vertices"][0].clone(), persistent=False)
        self.rest_orientations = {b: average["rest_bone_poses"][0, self.bone_labels.index(b), :3, :3].double().numpy()
                                  for b in bones}

    @property
    def beta_dim(self) -> int:
        return len(self.phenotype_labels)

    @property
    def theta_dim(self) -> int:
        return 3 * len(self.bones)

    def average_beta(self, count: int) -> Tensor:
        return torch.full((count, self.beta_dim), 0.5)

    def pose_sampler(self, scale: float = 1.0) -> PoseSampler:
        return PoseSampler(self.rest_orientations, self.bones, scale)

    def _check(self, beta: Tensor, theta: Tensor) -> None:
        if beta.dim() != 2 or beta.shape[1] != self.beta_dim:
            raise ValueError(f"beta must be [B, {self.beta_dim}] ({self.phenotype_labels}), got {tuple(beta.shape)}")
        if theta.shape[1:] != (len(self.bones), 3) or theta.shape[0] != beta.shape[0]:
            raise ValueError(f"theta must be [B={beta.shape[0]}, {len(self.bones)}, 3] (axis-angle of {self.bones}), "
                             f"got {tuple(theta.shape)}")

    def forward(self, beta: Tensor, theta: Tensor) -> RigOutput:
        import roma

        self._check(beta, theta)
        batch = beta.shape[0]
        rest = self.anny.get_rest_model(self.anny._get_phenotype_blendshape_coefficients(
            *self.anny.get_tensor_inputs(None, beta.to(self.weights.dtype), None, None)[1:]))
        rest_poses = rest["rest_bone_poses"]  # [B, J, 4, 4]
        # The parameters that reproduce the rest pose, then each posed bone turned in its own frame
        # (as AnnyBodyModel.body does for one body).
        parameters = self.anny.get_pose_parameterization({"rest_bone_poses": rest_poses, "bone_poses": rest_poses},
                                                         "local-bone").clone()
        eye = torch.eye(4, dtype=rest_poses.dtype, device=rest_poses.device)
        turns = eye.expand(batch, len(self.bones), 4, 4).clone()
        turns[:, :, :3, :3] = roma.rotvec_to_rotmat(theta.to(rest_poses.dtype))
        parameters[:, self.bone_index] = parameters[:, self.bone_index] @ turns
        transforms, _ = self.anny.get_bone_transforms(parameters, rest_poses, pose_parameterization="local-bone")
        vertices = skin(rest["rest_vertices"], self.weights, transforms)
        return RigOutput(rest["rest_vertices"], vertices, transforms)

    def rest_vertices(self, beta: Tensor) -> Tensor:
        """[B, V, 3] bodies of beta in the rest pose (no skinning)."""
        coefficients = self.anny._get_phenotype_blendshape_coefficients(
            *self.anny.get_tensor_inputs(None, beta.to(self.weights.dtype), None, None)[1:])
        return self.anny.get_rest_vertices(coefficients)

    def sample(self, rng: np.random.Generator, count: int, pose_scale: float = 1.0) -> tuple[Tensor, Tensor]:
        """Random (beta [count, S], theta [count, P, 3]) of plausible adult bodies and poses."""
        from inrzoo.bodies.poses import sample_phenotypes

        beta = torch.from_numpy(sample_phenotypes(rng, count, self.phenotype_labels))
        theta = torch.from_numpy(self.pose_sampler(pose_scale).sample(rng, count))
        return beta, theta
