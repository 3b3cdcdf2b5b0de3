"""Fitting losses, each reduced per shape: pred/target [K, B] -> [K] (mean over the batch).

A per-shape mean makes the gradient of sum_k loss_k with respect to INR k exactly the
gradient of its own loss, which is what makes a batched fit equal K independent fits.
Each loss also says how to read the network output back as a field whose zero level set is
the surface (`decode`), for surface error and mesh extraction.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import torch
import torch.nn.functional as F

from inrzoo.fit.config import LossConfig

FIELDS = ("sdf", "udf", "occupancy")


class FitLoss(ABC):
    """Base: `per_sample` gives [K, B]; `__call__` reduces it per shape."""

    name = "base"
    fields: tuple[str, ...] = FIELDS

    def __init__(self, cfg: LossConfig, field: str):
        if field not in self.fields:
            raise ValueError(f"loss {self.name!r} cannot fit a {field!r} field; it fits {list(self.fields)}")
        self.cfg = cfg
        self.field = field

    @abstractmethod
    def per_sample(self, pred: torch.Tensor, target: torch.Tensor, epoch: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def __call__(self, pred: torch.Tensor, target: torch.Tensor, epoch: torch.Tensor) -> torch.Tensor:
        return self.per_sample(pred, target, epoch).mean(dim=1)

    def decode(self, pred: torch.Tensor) -> torch.Tensor:
        """Network output -> field with the surface at 0 (distance units where the loss has them)."""
        return pred


class L1(FitLoss):
    name = "l1"
    fields = ("sdf", "udf")

    def per_sample(self, pred, target, epoch):
        return (pred - target).abs()


class ClampedL1(FitLoss):
    """DeepSDF: |clamp(f, delta) - clamp(s, delta)|."""

    name = "clamped_l1"
    fields = ("sdf", "udf")

    def per_sample(self, pred, target, epoch):
        d = self.cfg.delta
        return (pred.clamp(-d, d) - target.clamp(-d, d)).abs()


class Curriculum(FitLoss):
    """Duan et al. (Curriculum DeepSDF), with the schedule in cfg.curriculum:
    (1 + lambda sgn(s) sgn(s - f)) * max(|clamp(f, delta) - clamp(s, delta)| - epsilon, 0).
    Samples whose prediction lies between the surface and the target, or on the wrong side
    (hard/semi-hard), get weight 1 + lambda; easy ones 1 - lambda. Epoch is per shape."""

    name = "curriculum"
    fields = ("sdf",)

    def __init__(self, cfg: LossConfig, field: str):
        super().__init__(cfg, field)
        rows = sorted(cfg.curriculum, key=lambda r: r[0])
        if not rows or rows[0][0] != 0 or any(len(r) != 3 for r in rows):
            raise ValueError(f"curriculum schedule must be [epoch, epsilon, lambda] rows starting at epoch 0, got {cfg.curriculum}")
        self._table = torch.tensor(rows, dtype=torch.float64)  # [rows, (start epoch, epsilon, lambda)]
        self._on: dict[torch.device, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}

    def schedule(self, epoch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(epsilon [K], lambda [K]) in force at each shape's epoch, on epoch's device (a lookup
        that never waits for the device)."""
        if epoch.device not in self._on:
            self._on[epoch.device] = tuple(c.contiguous() for c in self._table.to(epoch.device).unbind(1))
        starts, eps, lam = self._on[epoch.device]
        row = torch.searchsorted(starts, epoch.detach().to(torch.float64), right=True) - 1
        return eps[row], lam[row]

    def per_sample(self, pred, target, epoch):
        d = self.cfg.delta
        eps, lam = (t.to(device=pred.device, dtype=pred.dtype).unsqueeze(1) for t in self.schedule(epoch))
        err = torch.relu((pred.clamp(-d, d) - target.clamp(-d, d)).abs() - eps)
        weight = 1.0 + lam * torch.sign(target) * torch.sign(target - pred)
        return weight * err


class NormalizedBCE(FitLoss):
    """inr2vec / DrapeNet: distances clipped at delta and mapped to [0, 1], BCE on logits.
    UDF: t = min(d, delta) / delta; SDF: t = (clamp(d, -delta, delta) + delta) / (2 delta)."""

    name = "bce"
    fields = ("sdf", "udf")

    def normalize(self, target: torch.Tensor) -> torch.Tensor:
        d = self.cfg.delta
        if self.field == "udf":
            return target.clamp(0.0, d) / d
        return (target.clamp(-d, d) + d) / (2.0 * d)

    def per_sample(self, pred, target, epoch):
        return F.binary_cross_entropy_with_logits(pred, self.normalize(target), reduction="none")

    def decode(self, pred):
        d = self.cfg.delta
        p = torch.sigmoid(pred)
        return p * d if self.field == "udf" else p * (2.0 * d) - d


class Focal(FitLoss):
    """Lin et al.'s focal loss on occupancy logits (inr2vec voxels):
    -alpha_t (1 - p_t)^gamma log(p_t). decode: occupancy probability - 0.5."""

    name = "focal"
    fields = ("occupancy",)

    def per_sample(self, pred, target, epoch):
        ce = F.binary_cross_entropy_with_logits(pred, target, reduction="none")
        p = torch.sigmoid(pred)
        p_t = p * target + (1.0 - p) * (1.0 - target)
        alpha_t = self.cfg.focal_alpha * target + (1.0 - self.cfg.focal_alpha) * (1.0 - target)
        return alpha_t * (1.0 - p_t) ** self.cfg.focal_gamma * ce

    def decode(self, pred):
        return torch.sigmoid(pred) - 0.5


class SignAgnostic(FitLoss):
    """SAL (Atzmon & Lipman): | |f(x)| - d(x) | with d the unsigned distance to the raw scan;
    the network (geometric initialization) still learns a signed field."""

    name = "sal"
    fields = ("udf",)

    def per_sample(self, pred, target, epoch):
        return (pred.abs() - target).abs()


LOSSES: dict[str, type[FitLoss]] = {
    cls.name: cls for cls in (L1, ClampedL1, Curriculum, NormalizedBCE, Focal, SignAgnostic)
}


def make_loss(cfg: LossConfig, field: str) -> FitLoss:
    if cfg.name not in LOSSES:
        raise KeyError(f"unknown loss {cfg.name!r}; known: {sorted(LOSSES)}")
    return LOSSES[cfg.name](cfg, field)


def eikonal(points: torch.Tensor, pred: torch.Tensor) -> torch.Tensor:
    """Mean (|grad_x f| - 1)^2 per shape; points must require grad and pred depend on them."""
    (grad,) = torch.autograd.grad(pred.sum(), points, create_graph=True)
    return ((grad.norm(dim=-1) - 1.0) ** 2).mean(dim=1)
