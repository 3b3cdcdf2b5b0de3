"""Moving between one-INR parameter dicts and stacked [K, ...] dicts (canonical order kept)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

Params = dict[str, torch.Tensor]


def stack_params(items: Sequence[Params]) -> Params:
    """[{name: [...]}] * K -> {name: [K, ...]}; all items must share names and shapes."""
    if not items:
        raise ValueError("stack_params: no parameter sets given")
    names = list(items[0])
    for i, item in enumerate(items):
        if list(item) != names:
            raise ValueError(f"stack_params: item {i} has parameters {list(item)}, expected {names}")
    return {n: torch.stack([item[n] for item in items]) for n in names}


def select_params(params: Params, index: int | Sequence[int] | torch.Tensor) -> Params:
    """Rows of a stacked dict: an int drops the K axis, a sequence keeps it."""
    if isinstance(index, int):
        return {n: p[index] for n, p in params.items()}
    idx = torch.as_tensor(index, dtype=torch.long)
    return {n: p[idx.to(p.device)] for n, p in params.items()}


def unstack_params(params: Params) -> list[Params]:
    k = next(iter(params.values())).shape[0]
    return [select_params(params, i) for i in range(k)]


def flatten_params(params: Params) -> torch.Tensor:
    """{name: [K, ...]} -> one [K, P] tensor, parameters concatenated in canonical (dict) order."""
    return torch.cat([p.reshape(p.shape[0], -1) for p in params.values()], dim=1)


def unflatten_params(flat: torch.Tensor, shapes: dict[str, tuple[int, ...]]) -> Params:
    """[K, P] -> {name: [K, *shape]} as views (differentiable), in the order of `shapes`."""
    sizes = [math.prod(s) for s in shapes.values()]
    if sum(sizes) != flat.shape[1]:
        raise ValueError(f"unflatten_params: {flat.shape[1]} values per row, the shapes need {sum(sizes)}")
    parts = torch.split(flat, sizes, dim=1)
    return {n: part.reshape((flat.shape[0], *s)) for (n, s), part in zip(shapes.items(), parts)}
