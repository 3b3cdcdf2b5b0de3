"""PointNet classification network (Qi et al., CVPR 2017, section 4 and appendix C).

Points [B, N, 3] -> input transform (T-Net, 3x3) -> shared MLP (64, 64) -> feature transform
(T-Net, 64x64) -> shared MLP (64, 128, 1024) -> max pool -> MLP (512, 256) with dropout (keep
ratio 0.7) on the last hidden layer -> class logits. Shared MLPs are kernel-1 convolutions;
BatchNorm and ReLU on every layer but the last. Each T-Net is a mini-PointNet (shared 64, 128,
1024, max pool, FC 512, 256) whose output is initialized to the identity matrix. The feature
transform is regularized towards an orthogonal matrix: L_reg = ||I - A A^T||_F^2 with weight
0.001 (`orthogonality_loss`). The prediction is invariant to the order of the points.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

REGULARIZATION_WEIGHT = 0.001  # paper: weight of L_reg added to the softmax classification loss


def _shared(dims: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(dims[:-1], dims[1:]):
        layers += [nn.Conv1d(a, b, 1), nn.BatchNorm1d(b), nn.ReLU()]
    return nn.Sequential(*layers)


def _dense(dims: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(dims[:-1], dims[1:]):
        layers += [nn.Linear(a, b), nn.BatchNorm1d(b), nn.ReLU()]
    return nn.Sequential(*layers)


class TNet(nn.Module):
    """Predicts a k x k transform from [B, k, N] features; starts as the identity."""

    def __init__(self, k: int) -> None:
        super().__init__()
        self.k = k
        self.features = _shared([k, 64, 128, 1024])
        self.regressor = _dense([1024, 512, 256])
        self.out = nn.Linear(256, k * k)
        nn.init.zeros_(self.out.weight)
        with torch.no_grad():
            self.out.bias.copy_(torch.eye(k).flatten())

    def forward(self, x: Tensor) -> Tensor:
        pooled = self.features(x).amax(dim=2)
        return self.out(self.regressor(pooled)).view(-1, self.k, self.k)


@dataclass
class PointNetConfig:
    dropout: float = 0.3  # paper: keep ratio 0.7
    feature_transform: bool = True


class PointNet(nn.Module):
    """Class logits of point clouds [B, N, 3]; `last_feature_transform` holds A for the regularizer."""

    def __init__(self, num_classes: int, config: PointNetConfig | None = None) -> None:
        super().__init__()
        self.config = config or PointNetConfig()
        self.input_transform = TNet(3)
        self.mlp1 = _shared([3, 64, 64])
        self.feature_transform = TNet(64) if self.config.feature_transform else None
        self.mlp2 = _shared([64, 64, 128, 1024])
        self.head = nn.Sequential(nn.Linear(1024, 512), nn.BatchNorm1d(512), nn.ReLU(),
                                  nn.Linear(512, 256), nn.BatchNorm1d(256), nn.ReLU(),
                                  nn.Dropout(self.config.dropout), nn.Linear(256, num_classes))
        self.last_feature_transform: Tensor | None = None

    def global_feature(self, points: Tensor) -> Tensor:
        """[B, N, 3] -> the max-pooled 1024-d shape feature."""
        if points.dim() != 3 or points.shape[-1] != 3:
            raise ValueError(f"PointNet expects points [B, N, 3], got {tuple(points.shape)}")
        x = points.transpose(1, 2)
        x = torch.bmm(self.input_transform(x).transpose(1, 2), x)  # (x^T A)^T: points times the 3x3 transform
        x = self.mlp1(x)
        if self.feature_transform is not None:
            a = self.feature_transform(x)
            self.last_feature_transform = a
            x = torch.bmm(a.transpose(1, 2), x)
        return self.mlp2(x).amax(dim=2)

    def forward(self, points: Tensor) -> Tensor:
        return self.head(self.global_feature(points))

    def regularization(self) -> Tensor:
        """REGULARIZATION_WEIGHT * ||I - A A^T||_F^2 of the last forward (0 without feature transform)."""
        a = self.last_feature_transform
        if a is None:
            return torch.zeros(())
        return REGULARIZATION_WEIGHT * orthogonality_loss(a)


def orthogonality_loss(a: Tensor) -> Tensor:
    """Mean over the batch of ||I - A A^T||_F^2 for transforms A [B, k, k]."""
    eye = torch.eye(a.shape[-1], dtype=a.dtype, device=a.device)
    return ((eye - a @ a.transpose(1, 2)) ** 2).sum(dim=(1, 2)).mean()
