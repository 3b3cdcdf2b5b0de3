"""Adam over stacked [K, ...] parameters, with a learning rate and step count per shape, plus
per-shape ReduceLROnPlateau and early stopping.

A shape that is not active (stopped, failed, or waiting for the others) gets no update at
all: its parameters, moments and step count stay exactly as they were, so its result is the
one an independent fit of that shape alone would give.
"""

from __future__ import annotations

import math

import torch

from inrzoo.fit.config import EarlyStoppingConfig, OptimizerConfig, PlateauConfig

class BatchedAdam:
    """Kingma & Ba's Adam with torch.optim.Adam's arithmetic, one independent state per row of
    a flat [K, P] parameter tensor (all of one INR's parameters in canonical order)."""

    def __init__(self, flat: torch.Tensor, cfg: OptimizerConfig, lr: torch.Tensor):
        self.flat = flat
        self.cfg = cfg
        self.lr = lr.to(device=flat.device, dtype=torch.float64).clone()
        self.steps = torch.zeros(flat.shape[0], dtype=torch.float64, device=flat.device)
        self.m = torch.zeros_like(flat)
        self.v = torch.zeros_like(flat)

    @torch.no_grad()
    def step(self, grad: torch.Tensor, active: torch.Tensor) -> None:
        """One update of the rows where `active` [K] (bool) is true."""
        cfg = self.cfg
        self.steps += active.to(self.steps.dtype)
        t = self.steps.clamp(min=1.0)
        bias1 = 1.0 - cfg.beta1**t
        bias2 = 1.0 - cfg.beta2**t
        step_size = ((self.lr / bias1) * active.to(self.lr.dtype)).to(self.flat.dtype).unsqueeze(1)
        m_new = self.m.mul(cfg.beta1).add_(grad, alpha=1.0 - cfg.beta1)
        v_new = self.v.mul(cfg.beta2).addcmul_(grad, grad, value=1.0 - cfg.beta2)
        if not bool(active.all()):
            mask = active.unsqueeze(1)
            m_new = torch.where(mask, m_new, self.m)
            v_new = torch.where(mask, v_new, self.v)
        self.m, self.v = m_new, v_new
        denom = (v_new.sqrt() / bias2.sqrt().to(self.flat.dtype).unsqueeze(1)).add_(cfg.eps)
        # Inactive rows have step_size 0 (and finite m, v), so they are left exactly unchanged.
        self.flat.sub_(m_new / denom * step_size)


class PlateauSchedule:
    """torch.optim.lr_scheduler.ReduceLROnPlateau (mode 'min', threshold_mode 'rel'), per shape."""

    def __init__(self, cfg: PlateauConfig, k: int):
        self.cfg = cfg
        self.best = [math.inf] * k
        self.bad = [0] * k
        self.cooldown = [0] * k

    def update(self, index: int, metric: float, lr: torch.Tensor) -> None:
        """Call at the end of shape `index`'s epoch; lowers lr[index] in place on a plateau."""
        cfg = self.cfg
        if not cfg.enabled:
            return
        if metric < self.best[index] * (1.0 - cfg.threshold):
            self.best[index] = metric
            self.bad[index] = 0
        else:
            self.bad[index] += 1
        if self.cooldown[index] > 0:
            self.cooldown[index] -= 1
            self.bad[index] = 0
        if self.bad[index] > cfg.patience:
            old = float(lr[index])
            new = max(old * cfg.factor, cfg.min_lr)
            if old - new > 1e-8:
                lr[index] = new
            self.cooldown[index] = cfg.cooldown
            self.bad[index] = 0


class EarlyStopping:
    """Keras EarlyStopping(monitor='loss', mode='min') per shape: stop after `patience` epochs
    without an improvement larger than min_delta."""

    def __init__(self, cfg: EarlyStoppingConfig, k: int):
        self.cfg = cfg
        self.best = [math.inf] * k
        self.wait = [0] * k

    def should_stop(self, index: int, metric: float) -> bool:
        if not self.cfg.enabled:
            return False
        if metric < self.best[index] - self.cfg.min_delta:
            self.best[index] = metric
            self.wait[index] = 0
            return False
        self.wait[index] += 1
        return self.wait[index] >= self.cfg.patience
