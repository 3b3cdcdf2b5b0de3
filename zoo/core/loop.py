"""The training loop every zoo model shares: batches in, `model.losses` out, one optimizer step.

    optimizer = make_optimizer(model, cfg.train.optimizer)
    set_epoch_lr(optimizer, cfg.train.optimizer, epoch, cfg.train.epochs)
    stats = train_epoch(model, data.batches("train", 16, shuffle=True, drop_last=True), optimizer, step)
    val = evaluate_epoch(model, data.batches("val", 16), step)

`model` may be wrapped in DistributedDataParallel: the forward of the wrapper is what
all-reduces gradients, so the loop calls the wrapper (whose forward is the model's `losses`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn

from inrzoo.zoo.core.job_config import OptimizerConfig
from inrzoo.zoo.core.model import StepContext, ZooModel


def unwrap(model: nn.Module) -> ZooModel:
    """The ZooModel inside DistributedDataParallel and LossesForward wrappers (or the model itself)."""
    while not isinstance(model, ZooModel) and hasattr(model, "module"):
        model = model.module
    return model


def make_optimizer(model: nn.Module, cfg: OptimizerConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    kind = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[cfg.name]
    return kind(params, lr=cfg.lr, weight_decay=cfg.weight_decay, betas=tuple(cfg.betas))


def set_epoch_lr(optimizer: torch.optim.Optimizer, cfg: OptimizerConfig, epoch: int, epochs: int) -> float:
    """Set every parameter group to the schedule's rate for `epoch`; returns it."""
    lr = cfg.epoch_lr(epoch, epochs)
    for group in optimizer.param_groups:
        group["lr"] = lr
    return lr


class LossesForward(nn.Module):
    """Makes `losses` the forward of a module, so DDP's wrapper hooks the gradient all-reduce."""

    def __init__(self, model: ZooModel) -> None:
        super().__init__()
        self.module = model

    def forward(self, batch: Any, step: StepContext) -> dict[str, torch.Tensor]:
        return self.module.losses(batch, step)


def _losses(model: nn.Module, batch: Any, step: StepContext) -> dict[str, torch.Tensor]:
    # A DDP wrapper's forward is LossesForward's; a bare ZooModel is asked directly.
    return model(batch, step) if not isinstance(model, ZooModel) else model.losses(batch, step)


def train_epoch(model: nn.Module, batches: Iterable[Any], optimizer: torch.optim.Optimizer, step: StepContext,
                max_steps: int = 0, losses_of: Callable[[Any, StepContext], dict[str, torch.Tensor]] | None = None
                ) -> dict[str, float]:
    """One pass over `batches` (each with `.size` and `.to(device)`); returns the mean of every
    loss term, "steps" and "items". `losses_of(batch, step)` defaults to the model's `losses`;
    a task training a model together with heads passes its own (inr2vec's multitask)."""
    unwrap(model).train()
    compute = losses_of or (lambda batch, ctx: _losses(model, batch, ctx))
    sums: dict[str, float] = {}
    steps = items = 0
    for batch in batches:
        if max_steps and steps >= max_steps:
            break
        size = batch.size
        if size < 2:
            continue  # BatchNorm cannot train on one item; a ragged last batch of one is skipped
        losses = compute(batch.to(step.device), step)
        optimizer.zero_grad(set_to_none=True)
        losses["loss"].backward()
        optimizer.step()
        for key, value in losses.items():
            sums[key] = sums.get(key, 0.0) + float(value.detach())
        steps += 1
        items += size
    return {**{key: value / max(steps, 1) for key, value in sums.items()}, "steps": float(steps), "items": float(items)}


@torch.no_grad()
def evaluate_epoch(model: nn.Module, batches: Iterable[Any], step: StepContext) -> dict[str, float]:
    """Mean loss terms over `batches` in eval mode (no update)."""
    inner = unwrap(model)
    inner.eval()
    sums: dict[str, float] = {}
    steps = 0
    for batch in batches:
        losses = inner.losses(batch.to(step.device), StepContext(step.device, step.generator, step.epoch, False))
        for key, value in losses.items():
            sums[key] = sums.get(key, 0.0) + float(value)
        steps += 1
    return {key: value / max(steps, 1) for key, value in sums.items()}
