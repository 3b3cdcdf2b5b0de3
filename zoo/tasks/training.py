"""The supervised loop the task heads share (classifier, segmentation, transfer), and the
classifier protocol the weight-space benchmark trains every method with (NFN on weight features,
PointNet on points, MLPs on vectors): AdamW, a OneCycle schedule over every step, the weights of
the epoch with the best validation accuracy kept (the thesis' classifier protocol; chosen for every
method of benchmarks/weightspace_kicad.py so that its table compares inputs, not recipes).

Minibatches are drawn over in-memory data (embeddings, labels, points, or any nesting of
tuples/lists/dicts of tensors with a leading sample axis: `take` indexes all of them at once);
after every epoch an optional validation score decides which weights are kept, as in the
released inr2vec scripts.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

log = logging.getLogger(__name__)


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


@dataclass
class TrainConfig:
    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-2
    seed: int = 0
    eval_batch_size: int = 256


def take(data: Any, idx: Tensor) -> Any:
    """The samples `idx` of a tensor or of a (nested) tuple/list/dict of tensors."""
    if isinstance(data, Tensor):
        return data[idx]
    if isinstance(data, dict):
        return {key: take(value, idx) for key, value in data.items()}
    if isinstance(data, (tuple, list)):
        return type(data)(take(item, idx) for item in data)
    raise TypeError(f"take: cannot index {type(data).__name__}")


def count(data: Any) -> int:
    if isinstance(data, Tensor):
        return data.shape[0]
    if isinstance(data, dict) and data:
        return count(next(iter(data.values())))
    if isinstance(data, (tuple, list)) and data:
        return count(data[0])
    raise TypeError(f"count: no samples in {type(data).__name__}")


@torch.no_grad()
def predict_logits(model: nn.Module, data: Any, batch_size: int = 256) -> Tensor:
    """Logits [N, classes] in eval mode, batch by batch."""
    model.eval()
    n = count(data)
    return torch.cat([model(take(data, torch.arange(s, min(s + batch_size, n)))) for s in range(0, n, batch_size)])


def accuracy(model: nn.Module, data: Any, labels: Tensor, batch_size: int = 256) -> float:
    return float((predict_logits(model, data, batch_size).argmax(-1) == labels).float().mean())


def train_classifier(model: nn.Module, train: Any, train_y: Tensor, val: Any | None, val_y: Tensor | None,
                     config: TrainConfig, extra_loss: Callable[[], Tensor] | None = None,
                     name: str = "classifier") -> dict[str, list[float]]:
    """Cross entropy (+ `extra_loss()` after each forward, e.g. PointNet's regularizer); the best
    validation epoch's weights are restored. Returns {"loss", "val_accuracy"} per epoch."""
    n = count(train)
    if n != len(train_y) or n < 2:
        raise ValueError(f"{name}: {n} inputs for {len(train_y)} labels (need 2+ matching)")
    torch.manual_seed(config.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = one_cycle(optimizer, config.lr, config.epochs, n, config.batch_size, min_size=2)
    epoch = [0]

    def batch_loss(idx: Tensor) -> Tensor:
        loss = F.cross_entropy(model(take(train, idx)), train_y[idx])
        return loss + extra_loss() if extra_loss is not None else loss

    def validate() -> float:
        epoch[0] += 1
        score = accuracy(model, val, val_y, config.eval_batch_size)
        log.info("%s epoch %d/%d: val accuracy %.3f", name, epoch[0], config.epochs, score)
        return score

    history = fit_minibatches(model, n, batch_loss, optimizer, epochs=config.epochs, batch_size=config.batch_size,
                              seed=config.seed, scheduler=scheduler, min_size=2,
                              validate=validate if val is not None and val_y is not None and len(val_y) else None)
    return {"loss": history["loss"], "val_accuracy": history["val"]}
