"""Hidden-neuron permutations of MLP INRs (a symmetry of their function), shared by the weight-space
model tests (importable: tests/ is on pythonpath)."""

from __future__ import annotations

import torch


def permute_hidden(params: dict[str, torch.Tensor], hidden: list[int], seed: int = 1) -> dict[str, torch.Tensor]:
    """W_i -> P_i W_i P_{i-1}^T, b_i -> P_i b_i for random P of every hidden layer of stacked
    parameters {name: [K, ...]} named layers.<i>.weight/bias and output.weight."""
    gen = torch.Generator().manual_seed(seed)
    out = dict(params)
    previous = None
    for i, width in enumerate(hidden):
        perm = torch.randperm(width, generator=gen)
        w = out[f"layers.{i}.weight"][:, perm]
        out[f"layers.{i}.weight"] = w if previous is None else w[:, :, previous]
        out[f"layers.{i}.bias"] = out[f"layers.{i}.bias"][:, perm]
        previous = perm
    out["output.weight"] = out["output.weight"][:, :, previous]
    return out
