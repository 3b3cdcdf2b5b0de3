"""Counter-based sample streams: each shape's mini-batches as a pure function of
(fit seed, shape id, epoch), computed for many shapes at once on the fit's device.

Epoch e of a shape with n samples visits its samples in the order of a keyed pseudorandom
permutation of [0, n): a Feistel network over [0, 2^m) (2^m >= max(n, 256), halves of m//2
and m - m//2 bits that swap each round) whose round keys hash (seed, shape id, epoch, round),
with the values >= n filtered out. Chosen: Luby-Rackoff's construction with 6 rounds (4 make
a strong pseudorandom permutation for wide halves; the margin is for narrow ones) and a
domain of at least 2^8 (with 1-bit halves the orders of tiny n are visibly non-uniform);
filtering instead of cycle-walking gives a bijection on [0, n) without data-dependent loops.
Batches are consecutive runs of batch_size positions; the last partial batch is dropped.

The arithmetic is exact uint32 arithmetic written once with operators that numpy arrays and
torch tensors share: numpy uint32 on CPU (fast, wraps by definition), torch int64 masked to
32 bits on other devices (products stay below 2^59). Both give the same permutation, so a
shape's batches depend neither on the device nor on which shapes share its fit.
"""

from __future__ import annotations

import numpy as np
import torch

_MASK32 = 0xFFFFFFFF
_MUL = 0x45D9F3B  # T. Mueller's 32-bit integer hash multiplier (< 2^27: int64-safe)
_ROUNDS = 6
_MIN_BITS = 8
_CHUNK_ELEMENTS = {"cpu": 1 << 16, "other": 1 << 25}  # cache-sized on CPU, large on a GPU


def _mix(x):
    """Bijective 32-bit integer hash, in place on x (numpy uint32 or torch int64 < 2^32)."""
    x ^= x >> 16
    x *= _MUL
    x &= _MASK32
    x ^= x >> 16
    x *= _MUL
    x &= _MASK32
    x ^= x >> 16
    return x


def round_keys(seed: int, stream_ids: np.ndarray, epochs: np.ndarray) -> np.ndarray:
    """[rounds, R] uint32 Feistel keys for shapes `stream_ids` (< 2^64) at `epochs` (< 2^32)."""
    ids = np.asarray(stream_ids, dtype=np.uint64)
    words = [
        np.full(ids.shape, seed & _MASK32, dtype=np.uint32),
        np.full(ids.shape, (seed >> 32) & _MASK32, dtype=np.uint32),
        (ids & np.uint64(_MASK32)).astype(np.uint32),
        (ids >> np.uint64(32)).astype(np.uint32),
        np.asarray(epochs, dtype=np.uint64).astype(np.uint32),
    ]
    h = np.full(ids.shape, 0x9E3779B9, dtype=np.uint32)
    for word in words:
        h ^= word
        _mix(h)
    keys = np.empty((_ROUNDS, *ids.shape), dtype=np.uint32)
    for r in range(_ROUNDS):
        keys[r] = _mix(h ^ np.uint32(r + 1))
    return keys


def _feistel(x, keys, bits: int):
    """The keyed permutation of [0, 2^bits) applied to x (broadcast against keys [R, 1])."""
    low = bits - bits // 2
    left, right = x >> low, x & ((1 << low) - 1)
    left_bits, right_bits = bits // 2, low
    for key in keys:
        f = _mix(right ^ key)
        f &= (1 << left_bits) - 1
        f ^= left
        left, right = right, f
        left_bits, right_bits = right_bits, left_bits
    left = left << right_bits
    left |= right
    return left


def permutations(seed: int, stream_ids, epochs, n: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """[R, n] int32 on `device`: for each shape, the order in which epoch `epochs[r]` visits
    its n samples (numpy's uint32 arithmetic on CPU, torch's int64 elsewhere: equal results)."""
    if not 0 < n < 2**31:
        raise ValueError(f"sample streams: a shape needs 1 to 2^31 - 1 samples, got {n}")
    device = torch.device(device)
    keys = round_keys(seed, np.atleast_1d(stream_ids), np.atleast_1d(epochs))
    if device.type == "cpu":
        return torch.from_numpy(_numpy_permutations(keys, n))
    return _torch_permutations(keys, n, device)


def _domain_bits(n: int) -> int:
    return max(_MIN_BITS, (n - 1).bit_length())


def _numpy_permutations(keys: np.ndarray, n: int) -> np.ndarray:
    bits = _domain_bits(n)
    out = np.empty((keys.shape[1], n), dtype=np.int32)
    counter = np.arange(1 << bits, dtype=np.uint32)[None, :]
    span = max(1, _CHUNK_ELEMENTS["cpu"] >> bits)
    for start in range(0, keys.shape[1], span):
        part = keys[:, start : start + span, None]
        values = _feistel(counter, list(part), bits)
        # A bijection on [0, 2^bits): exactly n values of every row are below n.
        out[start : start + part.shape[1]] = values[values < n].reshape(-1, n)
    return out


def _torch_permutations(keys: np.ndarray, n: int, device: torch.device) -> torch.Tensor:
    bits = _domain_bits(n)
    out = torch.empty((keys.shape[1], n), dtype=torch.int32, device=device)
    counter = torch.arange(1 << bits, dtype=torch.int64, device=device)[None, :]
    dev_keys = torch.from_numpy(keys.astype(np.int64)).to(device)
    span = max(1, _CHUNK_ELEMENTS["other"] >> bits)
    for start in range(0, keys.shape[1], span):
        part = dev_keys[:, start : start + span, None]
        values = _feistel(counter, list(part), bits)
        out[start : start + part.shape[1]] = values[values < n].view(-1, n).to(torch.int32)
    return out


class SampleStreams:
    """The samples of K shapes on the fit's device ([K, N_max] padded) with their current
    epoch permutations, and the gather of one step's batches for any subset of them."""

    def __init__(self, points: list[np.ndarray], values: list[np.ndarray], stream_ids: list[int],
                 seed: int, batch_size: int, device: torch.device, dtype: torch.dtype):
        self.k = len(points)
        self.seed = int(seed)
        self.batch_size = batch_size
        self.device = device
        self.counts = np.array([len(p) for p in points], dtype=np.int64)
        self.stream_ids = np.array([int(s) % 2**64 for s in stream_ids], dtype=np.uint64)
        self.steps_per_epoch = self.counts // batch_size
        n_max = int(self.counts.max())
        self.points = torch.zeros((self.k, n_max, 3), dtype=dtype, device=device)
        self.values = torch.zeros((self.k, n_max), dtype=dtype, device=device)
        for i, (p, v) in enumerate(zip(points, values)):
            self.points[i, : len(p)] = torch.as_tensor(np.asarray(p), dtype=dtype).to(device)
            self.values[i, : len(v)] = torch.as_tensor(np.asarray(v), dtype=dtype).to(device)
        self.order = torch.zeros((self.k, n_max), dtype=torch.int32, device=device)
        self._offsets = torch.arange(batch_size, device=device)
        self.start_epoch(np.arange(self.k), np.zeros(self.k, dtype=np.int64))

    def start_epoch(self, rows: np.ndarray, epochs: np.ndarray) -> None:
        """Load the permutations of epoch `epochs[j]` for shapes `rows[j]` (host arrays)."""
        rows, epochs = np.asarray(rows, dtype=np.int64), np.asarray(epochs, dtype=np.int64)
        counts = self.counts[rows]
        for n in np.unique(counts):
            same = counts == n
            perm = permutations(self.seed, self.stream_ids[rows[same]], epochs[same], int(n), self.device)
            self.order[torch.as_tensor(rows[same], device=self.device), : int(n)] = perm

    def batch(self, rows: torch.Tensor, position: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Batch number `position[j]` (within its epoch) of shape rows[j]: points [R, B, 3], values [R, B].
        Index arithmetic only: nothing here waits for the device."""
        n_max = self.order.shape[1]
        slots = (rows * n_max + position * self.batch_size).unsqueeze(1) + self._offsets
        sample = self.order.view(-1).index_select(0, slots.view(-1)).view(slots.shape).to(torch.int64)
        flat = (rows.unsqueeze(1) * n_max + sample).view(-1)
        points = self.points.view(-1, 3).index_select(0, flat).view(*slots.shape, 3)
        return points, self.values.view(-1).index_select(0, flat).view(slots.shape)
