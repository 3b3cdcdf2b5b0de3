"""DrapeNet's draping networks: Delta x = B(beta, theta) . M(x, z), one pair per garment type.

As in the thesis and the released code (liren2515/DrapeNet, models/drapenet.py `lbs_pbs`,
utils_drape.load_lbs): B maps the body's pose and shape to N_B = 128 blending weights; M maps a
canonical garment point (NeRF positional encoding of 5 x, 4 frequencies: 27 values) and the
garment's latent code to N_B displacement vectors [N_B, 3]; the displacement is their weighted
sum divided by 100 (the released code's output scale). Each of B and M is a 5-layer MLP (width
512 in the released code, LeakyReLU, a skip-free stack). The intersection solver is the same
construction with M reading both the bottom's and the top's codes: dx_IS(x, z_bot, z_top).

The pose input is [theta (axis-angle of the posed bones, `inrzoo.bodies.poses.POSED_BONES`), beta -
0.5] (chosen: anny's phenotypes centred on the average body, where SMPL's beta is 0).

`rest_anchored` (chosen, off by default; not in the thesis or the released code) blends with
B(beta, theta) - B(rest), rest being the canonical body in its rest pose (pose input 0), so the
displacement vanishes there, as SMPL's pose blend shapes do at the rest pose: the canonical garment
is the zero-strain, collision-free drape on that body, and an unanchored B carries the lift it
learns for hard poses into the rest pose (0.3-1.7 cm on trained models, issue 16's notes).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from inrzoo.zoo.components.implicit_decoder import PositionalEncoding

OUTPUT_SCALE = 100.0  # the released code divides B . M by 100
POINT_SCALE = 5.0  # ... and encodes 5 x
FREQUENCIES = 4  # NeRF encoding with 2^0 .. 2^3: 3 + 3 * 2 * 4 = 27 values


class FiveLayerMlp(nn.Module):
    """[..., d_in] -> [..., d_out]: Linear-LeakyReLU x 4, then Linear (released code's lbs_pbs_module)."""

    def __init__(self, d_in: int, d_out: int, hidden: int) -> None:
        super().__init__()
        dims = [d_in, hidden, hidden, hidden, hidden]
        layers: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [nn.Linear(a, b), nn.LeakyReLU()]
        layers.append(nn.Linear(hidden, d_out))
        self.net = nn.Sequential(*layers)
        for module in self.net:
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class DeformationNetwork(nn.Module):
    """(pose input [B, P], points [B, N, 3], codes [B, C]) -> displacements [B, N, 3]."""

    def __init__(self, pose_dim: int, code_dim: int, basis: int = 128, hidden: int = 512,
                 rest_anchored: bool = False) -> None:
        super().__init__()
        self.rest_anchored = rest_anchored
        self.encoding = PositionalEncoding(3, FREQUENCIES, FREQUENCIES - 1)
        self.blend = FiveLayerMlp(pose_dim, basis, hidden)  # B(beta, theta)
        self.displacements = FiveLayerMlp(self.encoding.out_dim + code_dim, basis * 3, hidden)  # M(x, z)
        self.basis, self.code_dim, self.pose_dim = basis, code_dim, pose_dim

    def forward(self, pose: Tensor, points: Tensor, codes: Tensor) -> Tensor:
        if pose.dim() != 2 or pose.shape[1] != self.pose_dim:
            raise ValueError(f"draping network: pose input must be [B, {self.pose_dim}], got {tuple(pose.shape)}")
        if codes.dim() != 2 or codes.shape[1] != self.code_dim or codes.shape[0] != points.shape[0]:
            raise ValueError(f"draping network: codes must be [B={points.shape[0]}, {self.code_dim}], "
                             f"got {tuple(codes.shape)}")
        weights = self.blend(pose)  # [B, N_B]
        if self.rest_anchored:
            weights = weights - self.blend(torch.zeros_like(pose[:1]))  # B(rest) = the blend at pose input 0
        features = torch.cat([self.encoding(POINT_SCALE * points),
                              codes[:, None, :].expand(-1, points.shape[1], -1)], dim=-1)
        vectors = self.displacements(features).reshape(*points.shape[:2], self.basis, 3)  # [B, N, N_B, 3]
        return torch.einsum("bk,bnkc->bnc", weights, vectors) / OUTPUT_SCALE


def pose_input(beta: Tensor, theta: Tensor) -> Tensor:
    """[theta flattened, beta - 0.5] [B, 3P + S]."""
    return torch.cat([theta.reshape(theta.shape[0], -1), beta - 0.5], dim=-1)
