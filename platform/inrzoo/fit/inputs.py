"""A shape's samples as fit input: per-shape checks and per-shape sample streams.

A bad shape is reported as failed with its reason, never raised, so the other shapes of the
batch go on. Each shape draws its mini-batches from its own generator, seeded from (fit
seed, the shape's stream id: its index in the dataset), so the batches a shape sees, and
therefore its weights, do not depend on which other shapes share its batch or how many
workers the conversion uses.
"""

from __future__ import annotations

import numpy as np
import torch

from inrzoo.fit.config import FitConfig


def check_samples(samples, cfg: FitConfig) -> str | None:
    """The reason this shape's samples cannot be fitted, or None."""
    points = np.asarray(samples.points)
    values = np.asarray(samples.values)
    if points.ndim != 2 or points.shape[1] != 3:
        return f"bad samples: points must be [N, 3], got {points.shape}"
    if values.shape != (len(points),):
        return f"bad samples: values must be [N] = [{len(points)}], got {values.shape}"
    if len(points) == 0:
        return "no samples"
    if not np.isfinite(points).all():
        return f"samples contain NaN/inf: {int((~np.isfinite(points)).any(axis=1).sum())} points"
    if not np.isfinite(values).all():
        return f"samples contain NaN/inf: {int((~np.isfinite(values)).sum())} values"
    if len(points) < cfg.batch_size:
        return f"{len(points)} samples, fewer than batch_size {cfg.batch_size}"
    return _no_surface(samples.field, values, cfg)


def _no_surface(field: str, values: np.ndarray, cfg: FitConfig) -> str | None:
    if field == "sdf" and not (values.min() < 0.0 < values.max() or (values == 0.0).any()):
        sign = "positive" if values.min() > 0 else "negative"
        return f"no surface: all {len(values)} SDF samples are {sign}"
    if field == "udf":
        if values.min() < 0.0:
            return "bad samples: negative unsigned distances"
        # No sample within the clamp distance of the surface: nothing locates the zero set.
        if values.min() > cfg.loss.delta:
            return f"no surface: the nearest sample is {values.min():.3g} from the surface (> {cfg.loss.delta:g})"
    if field == "occupancy":
        if not np.isin(values, (0.0, 1.0)).all():
            return "bad samples: occupancy values must be 0 or 1"
        if values.min() == values.max():
            return f"no surface: all occupancy samples are {int(values[0])}"
    return None


def check_surface(points: np.ndarray | None) -> str | None:
    """Reason the surface point set given for escalation is unusable, or None."""
    if points is None:
        return None
    points = np.asarray(points)
    if points.ndim != 2 or points.shape[1] != 3:
        return f"bad surface points: must be [M, 3], got {points.shape}"
    if len(points) == 0:
        return "no surface: empty surface point set"
    if not np.isfinite(points).all():
        return "surface points contain NaN/inf"
    return None


def stream_rng(seed: int, stream_id: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(stream_id)])


class ShapeStream:
    """Epochs of shuffled mini-batches over one shape's n samples (last partial batch dropped)."""

    def __init__(self, n: int, batch_size: int, rng: np.random.Generator):
        if n < batch_size:
            raise ValueError(f"{n} samples, fewer than batch_size {batch_size}")
        self.n = n
        self.batch_size = batch_size
        self.rng = rng
        self.epoch = 0
        self._perm = rng.permutation(n)
        self._pos = 0

    def next_batch(self) -> tuple[np.ndarray, bool]:
        """(indices [batch_size], whether this batch completed an epoch)."""
        b = self.batch_size
        idx = self._perm[self._pos : self._pos + b]
        self._pos += b
        epoch_done = self._pos + b > self.n
        if epoch_done:
            self.epoch += 1
            self._perm = self.rng.permutation(self.n)
            self._pos = 0
        return idx, epoch_done


class StackedSamples:
    """The shapes' samples padded into [K, N_max, 3] / [K, N_max] tensors for one gather per step."""

    def __init__(self, points: list[np.ndarray], values: list[np.ndarray], device: torch.device, dtype: torch.dtype):
        k = len(points)
        n_max = max(len(p) for p in points)
        self.points = torch.zeros((k, n_max, 3), dtype=dtype, device=device)
        self.values = torch.zeros((k, n_max), dtype=dtype, device=device)
        for i, (p, v) in enumerate(zip(points, values)):
            self.points[i, : len(p)] = torch.as_tensor(np.asarray(p), dtype=dtype).to(device)
            self.values[i, : len(v)] = torch.as_tensor(np.asarray(v), dtype=dtype).to(device)

    def gather(self, rows: torch.Tensor, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """rows [R] shape indices, idx [R, B] sample indices -> points [R, B, 3], values [R, B]."""
        flat = rows.unsqueeze(1) * self.points.shape[1] + idx
        return self.points.view(-1, 3)[flat], self.values.view(-1)[flat]
