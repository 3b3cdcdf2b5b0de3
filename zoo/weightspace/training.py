"""Plain-torch supervised training of the benchmark's classifiers (NFN on weight features,
PointNet on points, MLPs on vectors), with one protocol for all of them: AdamW, a OneCycle
schedule over every step, the weights of the epoch with the best validation accuracy kept
(the thesis' classifier protocol, inrzoo.zoo.tasks.classification; chosen here for every method so
that the table compares inputs, not training recipes).

Inputs are any nesting of tuples/lists/dicts of tensors with a leading sample axis (a tensor of
points, NFN features as (weights, biases) lists); `take` indexes all of them at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inrzoo.zoo.tasks.training import fit_minibatches, one_cycle

log = logging.getLogger(__name__)


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
