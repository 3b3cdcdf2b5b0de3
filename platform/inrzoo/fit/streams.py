"""Per-shape sample streams: each shape draws its mini-batches from its own generator.

The generator is seeded from (fit seed, the shape's stream id: its index in the dataset), so
the batches a shape sees, and therefore its weights, do not depend on which other shapes
share its batch or how many workers the conversion uses.
"""

from __future__ import annotations

import numpy as np
import torch


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
