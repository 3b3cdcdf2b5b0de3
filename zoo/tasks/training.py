"""The supervised loop the task heads share (classifier, segmentation, transfer).

Minibatches are drawn over in-memory tensors (embeddings, labels, points); after every epoch an
optional validation score decides which weights are kept, as in the released inr2vec scripts.
"""

from __future__ import annotations

import copy
from typing import Callable, Iterator

import torch
from torch import Tensor, nn


def minibatch_indices(n: int, batch_size: int, *, shuffle: bool = True, generator: torch.Generator | None = None,
                      min_size: int = 1) -> Iterator[Tensor]:
    """Index tensors covering range(n) in batches; a last batch smaller than `min_size` is dropped
    (BatchNorm cannot train on one sample, so loops with BatchNorm pass min_size=2)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        if len(idx) >= min_size:
            yield idx


def steps_per_epoch(n: int, batch_size: int, min_size: int = 1) -> int:
    """How many batches `minibatch_indices` yields for n items (for OneCycle's total_steps)."""
    full, rest = divmod(n, batch_size)
    return full + (1 if rest >= min_size and rest > 0 else 0)


def check_pairs(x: Tensor, y: Tensor, what: str) -> None:
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"{what}: {x.shape[0]} inputs but {y.shape[0]} targets")
    if x.shape[0] == 0:
        raise ValueError(f"{what}: no samples")


def one_cycle(optimizer: torch.optim.Optimizer, lr: float, epochs: int, n: int, batch_size: int,
              min_size: int = 1) -> torch.optim.lr_scheduler.OneCycleLR:
    """OneCycle over every step of the run (thesis C.5), peaking at `lr`."""
    total = max(1, epochs * steps_per_epoch(n, batch_size, min_size))
    return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total)


def fit_minibatches(model: nn.Module, n: int, batch_loss: Callable[[Tensor], Tensor], optimizer: torch.optim.Optimizer,
                    *, epochs: int, batch_size: int, seed: int, scheduler=None, min_size: int = 1,
                    validate: Callable[[], float] | None = None, higher_is_better: bool = True) -> dict[str, list[float]]:
    """Train `model` for `epochs` over n items; `batch_loss(indices)` gives the loss of a batch.

    With `validate`, the weights with the best validation score are restored at the end.
    Returns {"loss": per-epoch mean loss, "val": per-epoch validation score}. Leaves eval mode.
    """
    generator = torch.Generator().manual_seed(seed)
    history: dict[str, list[float]] = {"loss": [], "val": []}
    best, best_state = None, None
    for _ in range(epochs):
        model.train()
        losses = []
        for idx in minibatch_indices(n, batch_size, generator=generator, min_size=min_size):
            loss = batch_loss(idx)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            losses.append(float(loss.detach()))
        history["loss"].append(sum(losses) / max(len(losses), 1))
        if validate is not None:
            score = validate()
            history["val"].append(score)
            if best is None or (score > best if higher_is_better else score < best):
                best, best_state = score, copy.deepcopy(model.state_dict())
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history
