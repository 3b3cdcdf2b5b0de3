"""The batched fitting loop: K INRs of one architecture trained together as stacked tensors.

Each step evaluates only the active shapes (one batched matrix product per layer), reduces
the loss per shape, and updates each shape with its own Adam state and learning rate.
Epoch-level decisions (ReduceLROnPlateau, early stopping, divergence) are taken per shape at
the end of that shape's own epoch, so shapes never influence each other.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from inrzoo.fit.config import FitConfig
from inrzoo.fit.losses import FitLoss, eikonal
from inrzoo.fit.optim import BatchedAdam, EarlyStopping, PlateauSchedule
from inrzoo.fit.inputs import ShapeStream, StackedSamples, stream_rng
from inrzoo.inr import Architecture, flatten_params, unflatten_params

Params = dict[str, torch.Tensor]


@dataclass
class ShapeRecord:
    """What happened to one shape in one group fit."""

    loss: float = math.nan
    steps: int = 0
    epochs: int = 0
    seconds: float = 0.0
    lr: float = math.nan
    stop_reason: str = ""
    failed: str | None = None
    epoch_losses: list[float] = field(default_factory=list)


@dataclass
class GroupFit:
    params: Params  # [K, ...], detached
    records: list[ShapeRecord]


def fit_group(
    arch: Architecture,
    points: list[np.ndarray],
    values: list[np.ndarray],
    stream_ids: list[int],
    loss_fn: FitLoss,
    cfg: FitConfig,
) -> GroupFit:
    """Fit one INR per shape; shapes are assumed valid (see inrzoo.fit.validate)."""
    device = torch.device(cfg.device)
    dtype = getattr(torch, cfg.dtype)
    k = len(points)
    shapes = arch.param_shapes()
    init = flatten_params({n: p.unsqueeze(0) for n, p in arch.init_params(cfg.seed, dtype=dtype, device=device).items()})
    # All parameters of all K INRs in one [K, P] leaf: one gradient tensor, one Adam update.
    flat = init.repeat(k, 1)
    chunk = shape_chunk(cfg, arch, k)
    data = StackedSamples(points, values, device, dtype)
    streams = [ShapeStream(len(p), cfg.batch_size, stream_rng(cfg.seed, sid)) for p, sid in zip(points, stream_ids)]
    adam = BatchedAdam(flat, cfg.optimizer, torch.full((k,), cfg.optimizer.lr, dtype=torch.float64))
    plateau = PlateauSchedule(cfg.plateau, k)
    stopper = EarlyStopping(cfg.early_stopping, k)
    records = [ShapeRecord() for _ in range(k)]
    active = torch.ones(k, dtype=torch.bool)
    epoch_sum = np.zeros(k)
    epoch_n = np.zeros(k, dtype=np.int64)
    start = time.perf_counter()

    def stop(i: int, reason: str, failed: str | None = None) -> None:
        active[i] = False
        records[i].stop_reason = reason
        records[i].failed = failed
        records[i].seconds = time.perf_counter() - start

    while bool(active.any()):
        rows = torch.nonzero(active).squeeze(1)
        row_list = rows.tolist()
        batches = [streams[i].next_batch() for i in row_list]
        idx = torch.as_tensor(np.stack([b for b, _ in batches]), device=device)
        rows_dev = rows.to(device)
        epochs = torch.tensor([streams[i].epoch - int(done) for i, (_, done) in zip(row_list, batches)])
        grad = torch.zeros_like(flat)
        parts = []
        for c in range(0, len(row_list), chunk):
            part = slice(c, c + chunk)
            parts.append(_chunk_step(arch, shapes, flat, data, rows_dev[part], idx[part], epochs[part], loss_fn, cfg, grad))
        losses = torch.cat(parts).cpu().to(torch.float64).numpy()
        finite = np.isfinite(losses)
        for j in np.nonzero(~finite)[0]:
            i = row_list[j]
            stop(i, "diverged", f"loss diverged: non-finite loss at step {records[i].steps + 1}")
        adam.step(grad, active.to(device))
        for j, i in enumerate(row_list):
            if not finite[j]:
                continue
            rec = records[i]
            rec.steps += 1
            epoch_sum[i] += losses[j]
            epoch_n[i] += 1
            rec.loss = epoch_sum[i] / epoch_n[i]
            if batches[j][1]:
                _end_epoch(i, rec, epoch_sum[i] / epoch_n[i], cfg, adam, plateau, stopper, stop)
                epoch_sum[i], epoch_n[i] = 0.0, 0
            if active[i] and cfg.max_steps > 0 and rec.steps >= cfg.max_steps:
                stop(i, "max_steps")
    for i, rec in enumerate(records):
        rec.lr = float(adam.lr[i])
    return GroupFit({n: p.clone() for n, p in unflatten_params(flat.detach(), shapes).items()}, records)


def shape_chunk(cfg: FitConfig, arch: Architecture, k: int) -> int:
    """How many shapes go through one forward/backward. On CPU, a chunk whose activations stay
    in cache is faster than one huge batched product (memory-bound elementwise work); a
    GPU wants them all at once."""
    if cfg.shape_chunk > 0:
        return cfg.shape_chunk
    if cfg.shape_chunk == 0 or torch.device(cfg.device).type != "cpu":
        return k
    return max(1, min(k, (1 << 19) // (cfg.batch_size * max(arch.spec.hidden))))


def _chunk_step(arch, shapes, flat, data, rows, idx, epochs, loss_fn, cfg, grad) -> torch.Tensor:
    """Loss and gradient of the shapes `rows`; the gradient rows are written into `grad`."""
    x, y = data.gather(rows, idx)
    sub = flat.index_select(0, rows).requires_grad_(True)
    per_shape = _loss(arch, unflatten_params(sub, shapes), x, y, epochs, loss_fn, cfg)
    # Non-finite rows contribute nothing: their gradient is cut at the loss.
    keep = torch.isfinite(per_shape)
    total = torch.where(keep, per_shape, torch.zeros_like(per_shape)).sum()
    (g,) = torch.autograd.grad(total, sub)
    grad.index_copy_(0, rows, g)
    return per_shape.detach()


def _loss(arch, params, x, y, epochs, loss_fn: FitLoss, cfg: FitConfig) -> torch.Tensor:
    if cfg.loss.eikonal_weight > 0:
        x = x.detach().requires_grad_(True)
        pred = arch.forward(params, x)
        return loss_fn(pred, y, epochs) + cfg.loss.eikonal_weight * eikonal(x, pred)
    return loss_fn(arch.forward(params, x), y, epochs)


def _end_epoch(i, rec: ShapeRecord, epoch_loss: float, cfg: FitConfig, adam, plateau, stopper, stop) -> None:
    rec.epochs += 1
    rec.loss = epoch_loss
    rec.epoch_losses.append(epoch_loss)
    first = rec.epoch_losses[0]
    if rec.epochs > 1 and epoch_loss > cfg.divergence_factor * max(first, 1e-12):
        stop(i, "diverged", f"loss diverged: epoch {rec.epochs} loss {epoch_loss:.3g} > {cfg.divergence_factor:g} x first epoch {first:.3g}")
        return
    plateau.update(i, epoch_loss, adam.lr)
    if stopper.should_stop(i, epoch_loss):
        stop(i, "early_stopping")
    elif cfg.max_epochs > 0 and rec.epochs >= cfg.max_epochs:
        stop(i, "max_epochs")
