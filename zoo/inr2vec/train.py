"""Plain-torch training of the inr2vec encoder-decoder, called by the Ray Train worker loop.

    arch = inrzoo.inr.build(spec)
    model = Inr2vec(arch.param_shapes(), config)
    optimizer = make_optimizer(model, config.optimizer.lr, config.optimizer.weight_decay)
    for epoch in range(config.epochs):
        stats = train_epoch(model, loader, optimizer, arch.forward, device=device)

Each batch holds K stacked INRs (every tensor with a leading K axis); the teacher INRs are
evaluated at fresh queries every step, so no ground-truth samples need to be stored.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import torch
from torch import Tensor

from inrzoo.zoo.inr2vec.model import Inr2vec, reconstruction_loss
from inrzoo.zoo.inr2vec.teacher import BatchedForward, teacher_targets


def batch_params(batch: Any, names: Iterable[str]) -> dict[str, Tensor]:
    """The stacked INR parameters of one batch, whichever way the loader packs it.

    Accepted: a mapping of parameter names (extra keys such as labels are ignored), a mapping
    with a "params" entry, or a (params, ...) tuple/list.
    """
    if isinstance(batch, (tuple, list)):
        batch = batch[0]
    if isinstance(batch, Mapping) and "params" in batch and isinstance(batch["params"], Mapping):
        batch = batch["params"]
    if not isinstance(batch, Mapping):
        raise TypeError(f"a batch must carry a mapping of INR parameters, got {type(batch).__name__}")
    names = list(names)
    missing = [n for n in names if n not in batch]
    if missing:
        raise KeyError(f"batch lacks INR parameters {missing}; it has {sorted(batch)}")
    return {n: batch[n] for n in names}


def unwrap(model: torch.nn.Module) -> Inr2vec:
    """The Inr2vec inside a DistributedDataParallel wrapper (or the model itself)."""
    return getattr(model, "module", model)


def _to(params: Mapping[str, Tensor], device: torch.device | str | None) -> dict[str, Tensor]:
    return {n: (p.to(device) if device is not None else p).float() for n, p in params.items()}


def train_step(model: Inr2vec, params: Mapping[str, Tensor], optimizer: torch.optim.Optimizer,
               forward: BatchedForward, generator: torch.Generator | None = None) -> float:
    """One optimisation step on K stacked INRs; returns the reconstruction loss.

    `model` may be DDP-wrapped: its forward then all-reduces the gradients in backward.
    """
    model.train()
    config = unwrap(model).config
    queries, targets = teacher_targets(forward, params, config.teacher, config.loss, generator)
    output = model(params, queries)
    loss = reconstruction_loss(output, targets, config.loss)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def train_epoch(model: Inr2vec, batches: Iterable[Any], optimizer: torch.optim.Optimizer, forward: BatchedForward,
                *, device: torch.device | str | None = None, generator: torch.Generator | None = None,
                max_steps: int | None = None) -> dict[str, float]:
    """One pass over `batches`; returns {"loss": mean loss, "steps": steps, "inrs": INRs seen}.

    `forward` is the teacher architecture's batched forward (`build(spec).forward`).
    `generator` (on `device`) makes the query sampling reproducible.
    """
    total, steps, seen = 0.0, 0, 0
    for batch in batches:
        if max_steps is not None and steps >= max_steps:
            break
        params = _to(batch_params(batch, unwrap(model).param_shapes), device)
        if next(iter(params.values())).shape[0] < 2:
            continue  # BatchNorm cannot train on a single INR; skip a ragged last batch of one
        total += train_step(model, params, optimizer, forward, generator)
        steps += 1
        seen += next(iter(params.values())).shape[0]
    return {"loss": total / max(steps, 1), "steps": float(steps), "inrs": float(seen)}


@torch.no_grad()
def evaluate_epoch(model: Inr2vec, batches: Iterable[Any], forward: BatchedForward, *,
                   device: torch.device | str | None = None, generator: torch.Generator | None = None) -> dict[str, float]:
    """Mean reconstruction loss on held-out INRs (eval mode, no update)."""
    model.eval()
    total, steps = 0.0, 0
    for batch in batches:
        params = _to(batch_params(batch, model.param_shapes), device)
        queries, targets = teacher_targets(forward, params, model.config.teacher, model.config.loss, generator)
        total += float(reconstruction_loss(model(params, queries), targets, model.config.loss))
        steps += 1
    return {"loss": total / max(steps, 1), "steps": float(steps)}


@torch.no_grad()
def embed(model: Inr2vec, batches: Iterable[Any], *, device: torch.device | str | None = None) -> Tensor:
    """Embeddings [total K, embedding_dim] of every INR in `batches`, in order (eval mode)."""
    model.eval()
    out = [model.encode(_to(batch_params(b, model.param_shapes), device)).cpu() for b in batches]
    if not out:
        return torch.zeros(0, model.embedding_dim)
    return torch.cat(out)
