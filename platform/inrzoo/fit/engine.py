"""The batched fitting loop: K INRs of one architecture trained together as stacked tensors.

A step is tensor work only, on the fit's device, with no per-shape Python and nothing that
waits for the device: each shape's batch comes from its counter-based sample stream
(inrzoo.fit.streams), the loss per shape feeds one backward pass, and Adam updates every row.
Every shape still fitting takes the same number of steps, so the host knows, without asking
the device, at which steps some shape's epoch ends (its step count is a multiple of its
steps per epoch) and when max_steps is reached. Only at those steps (and every CHECK_EVERY
steps, to drop shapes whose loss became non-finite) does the host read anything back: the
epoch losses and the stop decisions, which are computed on the device for all shapes at once
(divergence, ReduceLROnPlateau, early stopping, max_epochs). Stopped shapes then leave the
group, so the next steps compute only the shapes still fitting. No shape ever influences
another: a batched fit gives every shape the weights it gets alone.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from inrzoo.fit.config import FitConfig
from inrzoo.fit.fused import FusedMLP, choose_kernel
from inrzoo.fit.losses import FitLoss, eikonal
from inrzoo.fit.optim import EarlyStopping, PlateauSchedule, adam_update
from inrzoo.fit.progress import FitProgress
from inrzoo.fit.rows import RowState, initial_params
from inrzoo.fit.schedule import lr_factor
from inrzoo.fit.streams import SampleStreams
from inrzoo.inr import Architecture, unflatten_params

Params = dict[str, torch.Tensor]

CHECK_EVERY = 256  # chosen: steps between reads of which shapes failed mid-epoch
FITTING, NON_FINITE, GROWTH, EARLY, MAX_EPOCHS, MAX_STEPS, SURFACE_TARGET = range(7)
REASONS = {NON_FINITE: "diverged", GROWTH: "diverged", EARLY: "early_stopping", MAX_EPOCHS: "max_epochs",
           MAX_STEPS: "max_steps", SURFACE_TARGET: "surface_target"}


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
    kernel: str = "torch"  # what ran the MLP: "torch" or "fused-<precision>"


def fit_group(
    arch: Architecture,
    points: list[np.ndarray],
    values: list[np.ndarray],
    stream_ids: list[int],
    loss_fn: FitLoss,
    cfg: FitConfig,
    surface: list[np.ndarray] | None = None,
) -> GroupFit:
    """Fit one INR per shape; shapes are assumed valid (see inrzoo.fit.inputs). `surface`
    (surface points per shape) enables cfg.surface_check."""
    return GroupFitter(arch, points, values, stream_ids, loss_fn, cfg, surface).run()


def shape_chunk(cfg: FitConfig, arch: Architecture, k: int) -> int:
    """How many shapes go through one forward/backward. On CPU, a chunk whose activations stay
    in cache is faster than one huge batched product (memory-bound elementwise work); a
    GPU wants them all at once."""
    if cfg.shape_chunk > 0:
        return cfg.shape_chunk
    if cfg.shape_chunk == 0 or torch.device(cfg.device).type != "cpu":
        return k
    return max(1, min(k, (1 << 19) // (cfg.batch_size * max(arch.spec.hidden))))


class GroupFitter:
    """One group fit: `step()` advances every shape still fitting by one step without waiting
    for the device; `advance(n)` takes n steps with their synchronization points; `run()`
    advances until every shape has stopped and returns the parameters and records."""

    def __init__(self, arch: Architecture, points: list[np.ndarray], values: list[np.ndarray],
                 stream_ids: list[int], loss_fn: FitLoss, cfg: FitConfig, surface: list[np.ndarray] | None = None):
        self.arch, self.loss_fn, self.cfg = arch, loss_fn, cfg
        self.device = torch.device(cfg.device)
        dtype = getattr(torch, cfg.dtype)
        k = len(points)
        self.shapes = arch.param_shapes()
        self.data = SampleStreams(points, values, stream_ids, cfg.seed, cfg.batch_size, self.device, dtype)
        params = initial_params(arch, cfg, stream_ids, dtype, self.device)
        self.rows = RowState.start(params, self.data.steps_per_epoch, cfg.optimizer.lr, self.device)
        self.plateau = PlateauSchedule(cfg.plateau, k, self.device)
        self.stopper = EarlyStopping(cfg.early_stopping, k, self.device)
        self.surface_check = SurfaceCheck.create(cfg, surface, dtype, self.device)
        self.final = torch.full_like(params, math.nan)  # parameters of the shapes that stopped
        self.live = np.arange(k)  # host: which shape each row is
        self.steps_per_epoch = self.data.steps_per_epoch.copy()
        self.chunk = shape_chunk(cfg, arch, k)
        # The one seam between the torch path and the fused kernel: how a chunk's losses and
        # gradients are computed (everything else in a step is the same for both).
        kernel = choose_kernel(cfg.mlp_kernel, arch, loss_fn, cfg.loss.eikonal_weight, cfg.dtype, self.device)
        self.fused = FusedMLP(arch, loss_fn, cfg.fused_precision) if kernel == "fused" else None
        self.kernel = f"fused-{cfg.fused_precision}" if self.fused else "torch"
        self.records = [ShapeRecord() for _ in range(k)]
        self.history: list[tuple[np.ndarray, np.ndarray]] = []  # (shapes, epoch losses) per epoch end
        self.t = 0
        self.started = time.perf_counter()
        self.progress = FitProgress(arch.spec.label, self.steps_per_epoch, cfg)

    # --- the step: tensor work only ----------------------------------------------------------
    def step(self) -> None:
        self.t += 1
        rows, cfg = self.rows, self.cfg
        position = (self.t - 1) - rows.epochs * rows.steps_per_epoch
        x, y = self.data.batch(rows.shape, position)
        lr = rows.lr if cfg.plateau.enabled else cfg.optimizer.lr
        scale = lr_factor(cfg.schedule, self.t - 1, cfg.max_steps)  # a host number: no sync
        if scale != 1.0:
            lr = lr * scale
        losses = torch.empty(len(self.live), dtype=x.dtype, device=self.device)
        kept = torch.empty(len(self.live), dtype=torch.bool, device=self.device)
        for a in range(0, len(self.live), self.chunk):
            part = slice(a, a + self.chunk)
            per_shape, keep, grad = self._loss_and_grad(rows.params[part], x[part], y[part], rows.epochs[part],
                                                        rows.alive[part])
            adam_update(rows.params[part], grad, rows.m[part], rows.v[part], self.t,
                        lr[part] if isinstance(lr, torch.Tensor) else lr, cfg.optimizer)
            losses[part] = per_shape
            kept[part] = keep
        rows.record_step(losses, kept, self.t)

    def _loss_and_grad(self, params: torch.Tensor, x: torch.Tensor, y: torch.Tensor, epochs: torch.Tensor,
                       alive: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-shape losses [R], which rows count [R], gradients [R, P]: a row whose loss is not
        finite (or that failed earlier) gets no gradient."""
        if self.fused is not None:
            per_shape, grad = self.fused.loss_and_grad(params, x, y, epochs)
            keep = torch.isfinite(per_shape) & alive
            return per_shape, keep, torch.where(keep.unsqueeze(1), grad, 0.0)
        leaf = params.detach().requires_grad_(True)
        per_shape = self._loss(unflatten_params(leaf, self.shapes), x, y, epochs)
        keep = torch.isfinite(per_shape) & alive
        (grad,) = torch.autograd.grad(torch.where(keep, per_shape, 0.0).sum(), leaf)
        return per_shape.detach(), keep, grad

    def _loss(self, params: Params, x: torch.Tensor, y: torch.Tensor, epochs: torch.Tensor) -> torch.Tensor:
        if self.cfg.loss.eikonal_weight > 0:
            x = x.detach().requires_grad_(True)
            pred = self.arch.forward(params, x)
            return self.loss_fn(pred, y, epochs) + self.cfg.loss.eikonal_weight * eikonal(x, pred)
        return self.loss_fn(self.arch.forward(params, x), y, epochs)

    # --- the loop and its synchronization points ------------------------------------------------
    def run(self) -> GroupFit:
        while len(self.live):
            self.advance(CHECK_EVERY)
        self._finish_records()
        params = {n: p.clone() for n, p in unflatten_params(self.final, self.shapes).items()}
        return GroupFit(params, self.records, self.kernel)

    def advance(self, steps: int) -> None:
        """Up to `steps` steps (fewer once every shape has stopped), each followed by the
        synchronization it calls for: an epoch end of some shape, max_steps, or CHECK_EVERY."""
        max_steps = self.cfg.max_steps
        for _ in range(steps):
            if not len(self.live):
                return
            self.step()
            ended = self.t % self.steps_per_epoch == 0
            last = max_steps > 0 and self.t >= max_steps
            if last or ended.any() or self._surface_check_due() or self.t % CHECK_EVERY == 0:
                self._synchronize(ended, last)

    def _surface_check_due(self) -> bool:
        return self.surface_check is not None and self.t % self.surface_check.every == 0

    def _synchronize(self, ended: np.ndarray, last: bool) -> None:
        """Epoch ends of the `ended` rows and every stop decision, on the device; one read back."""
        rows, cfg = self.rows, self.cfg
        check = self._surface_check_due()
        with torch.no_grad():
            done = torch.as_tensor(ended, device=self.device) & rows.alive
            loss = rows.end_epoch(done)
            growth = done & (rows.epochs > 1) & (loss > cfg.divergence_factor * rows.first.clamp(min=1e-12))
            update = done & ~growth
            self.plateau.update(update, loss, rows.lr)
            code = torch.zeros_like(rows.epochs)
            if cfg.max_epochs > 0:
                code = torch.where(update & (rows.epochs >= cfg.max_epochs), MAX_EPOCHS, code)
            code = torch.where(self.stopper.update(update, loss), EARLY, code)
            code = torch.where(growth, GROWTH, code)
            if check:  # the shapes already below the surface-error target stop here
                code = torch.where((code == FITTING) & self.surface_check.reached(self, rows), SURFACE_TARGET, code)
            code = torch.where(rows.alive, code, NON_FINITE)
            if last:
                code = torch.where(code == FITTING, MAX_STEPS, code)
            report = torch.stack([code.double(), loss, rows.first, rows.fail_step.double(), rows.epochs.double(), rows.lr])
            rows.reset_epoch(done)
            code_h, loss_h, first_h, fail_h, epochs_h, lr_h = report.cpu().numpy()
        done_h = ended & (code_h != NON_FINITE)
        if done_h.any():
            self.history.append((self.live[done_h], loss_h[done_h]))
        stopped = code_h != FITTING
        if stopped.any():
            self._stop(np.nonzero(stopped)[0], code_h, loss_h, first_h, fail_h, epochs_h, lr_h)
            keep = np.nonzero(~stopped)[0]
            index = torch.as_tensor(keep, device=self.device)
            self.rows = rows.select(index)
            self.plateau.select(index)
            self.stopper.select(index)
            self.live, self.steps_per_epoch = self.live[keep], self.steps_per_epoch[keep]
            done_h, epochs_h = done_h[keep], epochs_h[keep]
        if done_h.any():
            self.data.start_epoch(self.live[done_h], epochs_h[done_h].astype(np.int64))
        self.progress.update(self.t, self.live, self.steps_per_epoch, loss_h[~stopped])

    def _stop(self, which: np.ndarray, code, loss, first, fail_step, epochs, lr) -> None:
        """Record the shapes of rows `which` as stopped and keep their parameters."""
        seconds = time.perf_counter() - self.started
        self.final[torch.as_tensor(self.live[which], device=self.device)] = self.rows.params[
            torch.as_tensor(which, device=self.device)]
        for j in which:
            rec = self.records[self.live[j]]
            rec.loss, rec.epochs, rec.lr, rec.seconds = float(loss[j]), int(epochs[j]), float(lr[j]), seconds
            rec.steps = int(fail_step[j]) - 1 if code[j] == NON_FINITE else self.t
            rec.stop_reason = REASONS[int(code[j])]
            if code[j] == NON_FINITE:
                rec.failed = f"loss diverged: non-finite loss at step {int(fail_step[j])}"
            elif code[j] == GROWTH:
                rec.failed = (f"loss diverged: epoch {int(epochs[j])} loss {loss[j]:.3g} > "
                              f"{self.cfg.divergence_factor:g} x first epoch {first[j]:.3g}")

    def _finish_records(self) -> None:
        if not self.history:
            return
        shapes = np.concatenate([s for s, _ in self.history])
        losses = np.concatenate([v for _, v in self.history])
        order = np.argsort(shapes, kind="stable")  # per shape, in epoch order
        bounds = np.searchsorted(shapes[order], np.arange(len(self.records) + 1))
        for i, rec in enumerate(self.records):
            rec.epoch_losses = losses[order[bounds[i] : bounds[i + 1]]].tolist()


class SurfaceCheck:
    """cfg.surface_check: each shape's surface error (Davies: mean |f| at surface points) on a
    few of its surface points, computed on the device for every row still fitting at a
    synchronization point, so stopping a shape at the target costs no extra read-back."""

    def __init__(self, points: torch.Tensor, target: float, every: int):
        self.points, self.target, self.every = points, target, every

    @classmethod
    def create(cls, cfg: FitConfig, surface: list[np.ndarray] | None, dtype: torch.dtype,
               device: torch.device) -> "SurfaceCheck | None":
        check = cfg.surface_check
        if check.target <= 0 or surface is None:
            return None
        # The first `points` of each shape's points (cycled where a shape has fewer): [K, n, 3];
        # a shape without surface points gets NaN ones, so it never stops by this check.
        rows = [np.full((check.points, 3), np.nan, dtype=np.float32) if s is None or not len(s) else
                np.resize(np.asarray(s, dtype=np.float32).reshape(-1, 3), (check.points, 3)) for s in surface]
        return cls(torch.as_tensor(np.stack(rows), dtype=dtype, device=device), check.target, check.every)

    @torch.no_grad()
    def reached(self, fitter: GroupFitter, rows: RowState) -> torch.Tensor:
        """[R] bool: rows whose surface error is below the target now."""
        errors = torch.empty(len(rows.shape), dtype=rows.params.dtype, device=rows.params.device)
        for a in range(0, len(errors), fitter.chunk):
            part = slice(a, a + fitter.chunk)
            params = unflatten_params(rows.params[part], fitter.shapes)
            field = fitter.loss_fn.decode(fitter.arch.forward(params, self.points[rows.shape[part]]))
            errors[part] = field.abs().mean(dim=1)
        return errors < self.target
