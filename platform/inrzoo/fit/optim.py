"""Adam over the rows of a flat [R, P] parameter tensor, and per-shape ReduceLROnPlateau and
early stopping, all as tensor operations on the fit's device (no host round trip).

Every row of a group fit takes the same number of steps until it stops (a stopped row leaves
the group), so Adam's bias corrections are scalars of the common step count and each row's
update is exactly torch.optim.Adam's for that shape alone. The schedules are updated at the end
of an epoch for the rows that `mask` selects and leave the other rows exactly as they were.
"""

from __future__ import annotations

import math

import torch

from inrzoo.fit.config import EarlyStoppingConfig, AdamConfig, PlateauConfig


@torch.no_grad()
def adam_update(param: torch.Tensor, grad: torch.Tensor, m: torch.Tensor, v: torch.Tensor, step: int,
                lr: float | torch.Tensor, cfg: AdamConfig) -> None:
    """One Adam step (torch.optim.Adam's single-tensor arithmetic) of rows that all reach
    `step`; lr is one float for all rows or a [R] tensor (a rate per shape)."""
    m.lerp_(grad, 1.0 - cfg.beta1)
    v.mul_(cfg.beta2).addcmul_(grad, grad, value=1.0 - cfg.beta2)
    bias1 = 1.0 - cfg.beta1**step
    bias2_sqrt = math.sqrt(1.0 - cfg.beta2**step)
    denom = (v.sqrt() / bias2_sqrt).add_(cfg.eps)
    if isinstance(lr, torch.Tensor):
        param.addcmul_(m / denom, (lr / bias1).to(param.dtype).unsqueeze(1), value=-1.0)
    else:
        param.addcdiv_(m, denom, value=-lr / bias1)


class PlateauSchedule:
    """torch.optim.lr_scheduler.ReduceLROnPlateau (mode 'min', threshold_mode 'rel') per row."""

    def __init__(self, cfg: PlateauConfig, k: int, device: torch.device):
        self.cfg = cfg
        self.best = torch.full((k,), math.inf, dtype=torch.float64, device=device)
        self.bad = torch.zeros(k, dtype=torch.int64, device=device)
        self.cooldown = torch.zeros(k, dtype=torch.int64, device=device)

    def select(self, index: torch.Tensor) -> None:
        """Keep only rows `index` (in that order)."""
        self.best, self.bad, self.cooldown = (t.index_select(0, index) for t in (self.best, self.bad, self.cooldown))

    @torch.no_grad()
    def update(self, mask: torch.Tensor, metric: torch.Tensor, lr: torch.Tensor) -> None:
        """End of an epoch for rows `mask` with epoch loss `metric`; lowers lr [R] in place."""
        cfg = self.cfg
        if not cfg.enabled:
            return
        improved = metric < self.best * (1.0 - cfg.threshold)
        self.best = torch.where(mask & improved, metric, self.best)
        bad = torch.where(mask, torch.where(improved, 0, self.bad + 1), self.bad)
        cooling = mask & (self.cooldown > 0)
        cooldown = torch.where(cooling, self.cooldown - 1, self.cooldown)
        bad = torch.where(cooling, 0, bad)
        reduce = mask & (bad > cfg.patience)
        lowered = (lr * cfg.factor).clamp(min=cfg.min_lr)
        lr.copy_(torch.where(reduce & (lr - lowered > 1e-8), lowered, lr))
        self.cooldown = torch.where(reduce, cfg.cooldown, cooldown)
        self.bad = torch.where(reduce, 0, bad)


class EarlyStopping:
    """Keras EarlyStopping(monitor='loss', mode='min') per row: stop after `patience` epochs
    without an improvement larger than min_delta."""

    def __init__(self, cfg: EarlyStoppingConfig, k: int, device: torch.device):
        self.cfg = cfg
        self.best = torch.full((k,), math.inf, dtype=torch.float64, device=device)
        self.wait = torch.zeros(k, dtype=torch.int64, device=device)

    def select(self, index: torch.Tensor) -> None:
        self.best, self.wait = self.best.index_select(0, index), self.wait.index_select(0, index)

    @torch.no_grad()
    def update(self, mask: torch.Tensor, metric: torch.Tensor) -> torch.Tensor:
        """End of an epoch for rows `mask`: [R] bool, the rows that should stop now."""
        if not self.cfg.enabled:
            return torch.zeros_like(mask)
        improved = metric < self.best - self.cfg.min_delta
        self.best = torch.where(mask & improved, metric, self.best)
        self.wait = torch.where(mask, torch.where(improved, 0, self.wait + 1), self.wait)
        return mask & ~improved & (self.wait >= self.cfg.patience)
