"""The per-shape state of a group fit, one row per shape still fitting, on the fit's device:
parameters and Adam moments, learning rate, epoch loss accumulators, failure marks.

All of it is updated with tensor operations; `select` drops the rows of shapes that stopped
(at a synchronization point), so later steps only compute the shapes still fitting.
Also here: where the parameters start (one shared initialization, or one per shape).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import torch

from inrzoo.fit.config import FitConfig
from inrzoo.inr import Architecture, flatten_params

_INIT_TAG = 0x494E4954  # "INIT": keeps per-shape init seeds apart from other uses of (seed, id)


def shape_init_seed(seed: int, stream_id: int) -> int:
    """The initialization seed of one shape under init 'per_shape': a 63-bit function of
    (fit seed, shape id), the same on every machine and in every grouping."""
    words = np.random.SeedSequence([seed % 2**64, int(stream_id), _INIT_TAG]).generate_state(2, np.uint32)
    return (int(words[0]) | int(words[1]) << 32) >> 1


def initial_params(arch: Architecture, cfg: FitConfig, stream_ids: list[int], dtype: torch.dtype,
                   device: torch.device) -> torch.Tensor:
    """[K, P] starting parameters: init_params(seed) for every shape (init 'shared': the
    shared initialization inr2vec needs), or init_params(shape_init_seed(seed, id)) (init
    'per_shape': independent random inits, as NetSpace's SDF zoo has)."""
    def flat(seed: int) -> torch.Tensor:
        return flatten_params({n: p.unsqueeze(0) for n, p in arch.init_params(seed).items()})

    if cfg.init == "shared":
        return flat(cfg.seed).to(device=device, dtype=dtype).repeat(len(stream_ids), 1)
    return torch.cat([flat(shape_init_seed(cfg.seed, sid)) for sid in stream_ids]).to(device=device, dtype=dtype)


@dataclass
class RowState:
    """Tensors with one row per shape still fitting (all on the fit's device)."""

    params: torch.Tensor  # [R, P] canonical flat parameters
    m: torch.Tensor  # [R, P] Adam first moment
    v: torch.Tensor  # [R, P] Adam second moment
    lr: torch.Tensor  # [R] float64
    shape: torch.Tensor  # [R] int64: the shape's index in the group (its samples' row)
    steps_per_epoch: torch.Tensor  # [R] int64
    epochs: torch.Tensor  # [R] int64: completed epochs (= the current epoch's index)
    epoch_sum: torch.Tensor  # [R] float64: sum of this epoch's finite step losses
    epoch_n: torch.Tensor  # [R] int64: how many
    first: torch.Tensor  # [R] float64: first epoch's loss (divergence test)
    last: torch.Tensor  # [R] float64: last completed epoch's loss
    alive: torch.Tensor  # [R] bool: no non-finite loss yet
    fail_step: torch.Tensor  # [R] int64: the step whose loss was non-finite (0: none)

    @classmethod
    def start(cls, params: torch.Tensor, steps_per_epoch: np.ndarray, lr: float, device: torch.device) -> "RowState":
        k = params.shape[0]
        f64 = {"dtype": torch.float64, "device": device}
        i64 = {"dtype": torch.int64, "device": device}
        return cls(
            params=params, m=torch.zeros_like(params), v=torch.zeros_like(params), lr=torch.full((k,), lr, **f64),
            shape=torch.arange(k, **i64), steps_per_epoch=torch.as_tensor(steps_per_epoch, **i64),
            epochs=torch.zeros(k, **i64), epoch_sum=torch.zeros(k, **f64), epoch_n=torch.zeros(k, **i64),
            first=torch.full((k,), math.nan, **f64), last=torch.full((k,), math.nan, **f64),
            alive=torch.ones(k, dtype=torch.bool, device=device), fail_step=torch.zeros(k, **i64),
        )

    def select(self, index: torch.Tensor) -> "RowState":
        """The rows `index`, in that order."""
        return RowState(**{f.name: getattr(self, f.name).index_select(0, index) for f in dataclasses.fields(self)})

    @torch.no_grad()
    def record_step(self, losses: torch.Tensor, finite: torch.Tensor, step: int) -> None:
        """Accumulate a step's losses [R] where `finite` (finite loss of a row still alive); a
        row alive until now whose loss is not finite fails at `step`."""
        self.fail_step.masked_fill_(self.alive ^ finite, step)
        self.alive.copy_(finite)
        self.epoch_sum += torch.where(finite, losses, 0.0)
        self.epoch_n += finite

    @torch.no_grad()
    def end_epoch(self, done: torch.Tensor) -> torch.Tensor:
        """Close the epoch of rows `done`; returns each row's current loss [R] (the epoch mean
        of its finite steps so far, or the last epoch's where there is none)."""
        loss = torch.where(self.epoch_n > 0, self.epoch_sum / self.epoch_n.clamp(min=1), self.last)
        self.epochs += done
        self.first = torch.where(done & (self.epochs == 1), loss, self.first)
        self.last = torch.where(done, loss, self.last)
        return loss

    @torch.no_grad()
    def reset_epoch(self, done: torch.Tensor) -> None:
        self.epoch_sum = torch.where(done, 0.0, self.epoch_sum)
        self.epoch_n = torch.where(done, 0, self.epoch_n)
