"""Embeddings of a data split, the common input of the weight-space tasks.

`embed_split` streams a split of a weight dataset through the model's encoder once, keeping the
labels and, for raw-weight baselines, the flattened weights (standardized with the statistics
of the train split by `standardize`, like the BatchNorm at the encoders' input).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from inrzoo.store import WeightDataset
from inrzoo.zoo.core.model import Encoder, flatten
from inrzoo.zoo.core.weights import source_ids


@dataclass
class SplitData:
    embeddings: Tensor  # [N, D]
    labels: Tensor  # [N] int64, -1 = unlabeled
    flat: Tensor | None = None  # [N, P] raw weights in canonical order
    sources: list[str] | None = None  # each row's source shape (augmented copies share their original's)

    def __len__(self) -> int:
        return len(self.labels)


@torch.no_grad()
def embed_params(model: Encoder, params: dict[str, Tensor], batch_size: int = 256) -> Tensor:
    """Embeddings [K, E] of stacked INR parameters, in eval mode, batch by batch."""
    model.eval()
    device = next(model.parameters()).device
    k = next(iter(params.values())).shape[0]
    parts = [model.encode({n: p[i:i + batch_size].to(device).float() for n, p in params.items()}).cpu()
             for i in range(0, k, batch_size)]
    return torch.cat(parts) if parts else torch.zeros(0, model.embedding_dim)


@torch.no_grad()
def embed_split(model: Encoder, view: WeightDataset, batch_size: int = 64, with_flat: bool = False) -> SplitData:
    """One pass over `view`: embeddings, labels, source ids and, if asked, the flattened weights."""
    sources = [str(s) for s in source_ids(view.columns["id"][view.rows])] if len(view) else []
    if len(view) == 0:
        return SplitData(torch.zeros(0, model.embedding_dim), torch.zeros(0, dtype=torch.long),
                         torch.zeros(0, 0) if with_flat else None, sources)
    model.eval()
    device = next(model.parameters()).device
    embeddings, labels, flats = [], [], []
    for batch in view.loader(batch_size):
        params = {n: p.to(device).float() for n, p in batch["params"].items()}
        embeddings.append(model.encode(params).cpu())
        labels.append(batch["label"])
        if with_flat:
            flats.append(flatten(batch["params"]).float())
    return SplitData(torch.cat(embeddings), torch.cat(labels), torch.cat(flats) if with_flat else None, sources)


def standardize(train: Tensor, *others: Tensor) -> list[Tensor]:
    """Each tensor standardized per column with the train split's mean and deviation."""
    mean, std = train.mean(0), train.std(0).clamp_min(1e-6)
    return [(t - mean) / std for t in (train, *others)]
