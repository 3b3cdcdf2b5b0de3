"""The input INRs as teachers: query points and the targets the decoder must reproduce.

inr2vec is trained to reproduce the function of its input INR. Instead of reading the source
meshes, queries are drawn around the INR's own surface (uniform candidates kept with weight
exp(-beta |field|), as in Davies' importance sampling, then jittered with Gaussian noise of
the configured deviations) plus uniform points in [-1, 1]^3, and the INR is evaluated there.

The INR's raw output is read through the `decode` of the inrzoo.fit loss it was fitted with,
giving a field whose surface is at 0: a signed distance (sdf, or SAL's signed field), an
unsigned distance (udf), or occupancy probability - 0.5. Targets follow inr2vec: for BCE the
clamped field becomes a label in [0, 1] — signed: (clamp(f, -c, c) + c) / 2c, unsigned:
1 - clamp(f, 0, c) / c, occupancy: f + 0.5 — and the decoder predicts its logit; for MSE the
target is the clamped field itself.
"""

from __future__ import annotations

from typing import Callable, Literal, Mapping

import torch
from torch import Tensor

from inrzoo.fit.config import LossConfig
from inrzoo.fit.losses import make_loss
from inrzoo.zoo.inr2vec.config import TeacherConfig

# forward(params with a leading K axis, points [K, N, 3]) -> [K, N]: `build(spec).forward`.
BatchedForward = Callable[[Mapping[str, Tensor], Tensor], Tensor]
Kind = Literal["signed", "unsigned", "occupancy"]


# A TeacherConfig not resolved against a dataset (Inr2vec does that) reads its blanks as the
# platform's defaults: SDFs fitted with L1 and delta 0.1 (the davies preset).
def _field(config: TeacherConfig) -> str:
    return config.field or "sdf"


def target_kind(config: TeacherConfig) -> Kind:
    """What the decoded teacher field is: SAL fits unsigned data with a signed field."""
    if _field(config) == "occupancy":
        return "occupancy"
    return "signed" if _field(config) == "sdf" or config.inr_loss == "sal" else "unsigned"


def field_from_inr_output(raw: Tensor, config: TeacherConfig) -> Tensor:
    """Raw INR output -> field with the surface at 0, by the fit loss's own `decode`."""
    loss = make_loss(LossConfig(name=config.inr_loss or "l1", delta=config.inr_delta or 0.1), _field(config))
    return loss.decode(raw)


def labels_from_field(field: Tensor, config: TeacherConfig) -> Tensor:
    """Field value -> inr2vec BCE label in [0, 1]."""
    c, kind = config.clamp, target_kind(config)
    if kind == "signed":
        return (field.clamp(-c, c) + c) / (2 * c)
    if kind == "unsigned":
        return 1 - field.clamp(0, c) / c
    return (field + 0.5).clamp(0, 1)


def field_from_labels(labels: Tensor, config: TeacherConfig) -> Tensor:
    """inr2vec label in [0, 1] -> field value (the inverse of `labels_from_field` on the clamp range)."""
    c, kind = config.clamp, target_kind(config)
    if kind == "signed":
        return labels * (2 * c) - c
    if kind == "unsigned":
        return (1 - labels) * c
    return labels - 0.5


def clamp_field(field: Tensor, config: TeacherConfig) -> Tensor:
    """The MSE target: the field restricted to the range the BCE labels cover."""
    c, kind = config.clamp, target_kind(config)
    if kind == "signed":
        return field.clamp(-c, c)
    if kind == "unsigned":
        return field.clamp(0, c)
    return field.clamp(-0.5, 0.5)


def field_from_decoder_output(out: Tensor, config: TeacherConfig, loss: str) -> Tensor:
    """Decoder output -> field value: logits of labels for "bce", the field itself for "mse"."""
    if loss == "bce":
        return field_from_labels(torch.sigmoid(out), config)
    if loss == "mse":
        return out
    raise ValueError(f"loss must be 'bce' or 'mse', got {loss!r}")


@torch.no_grad()
def evaluate_field(forward: BatchedForward, params: Mapping[str, Tensor], points: Tensor, config: TeacherConfig,
                   chunk: int = 65_536) -> Tensor:
    """The teachers' field at points [K, N, 3] -> [K, N], in chunks along N to bound memory."""
    parts = [forward(params, points[:, i : i + chunk]) for i in range(0, points.shape[1], chunk)]
    return field_from_inr_output(torch.cat(parts, dim=1), config)


def _uniform(k: int, n: int, like: Tensor, generator: torch.Generator | None) -> Tensor:
    return torch.rand(k, n, 3, generator=generator, device=like.device, dtype=like.dtype) * 2 - 1


@torch.no_grad()
def sample_queries(forward: BatchedForward, params: Mapping[str, Tensor], config: TeacherConfig,
                   generator: torch.Generator | None = None) -> Tensor:
    """Query points [K, num_queries, 3] in [-1, 1]^3, concentrated near each teacher's surface."""
    like = next(iter(params.values()))
    k = like.shape[0]
    n_near = int(round(config.num_queries * config.near_fraction))
    n_uniform = config.num_queries - n_near
    parts = []
    if n_near > 0:
        pool = _uniform(k, n_near * config.pool_factor, like, generator)
        score = evaluate_field(forward, params, pool, config).abs()
        # Subtract the per-INR minimum so the weights never all underflow to zero.
        weights = torch.exp(-config.beta * (score - score.amin(dim=1, keepdim=True)))
        picks = torch.multinomial(weights, n_near, replacement=True, generator=generator)
        near = torch.gather(pool, 1, picks.unsqueeze(-1).expand(-1, -1, 3))
        stds = torch.tensor(config.stds, dtype=like.dtype, device=like.device)
        which = torch.randint(len(config.stds), (k, n_near, 1), generator=generator, device=like.device)
        noise = torch.randn(k, n_near, 3, generator=generator, device=like.device, dtype=like.dtype)
        parts.append((near + noise * stds[which]).clamp(-1, 1))
    if n_uniform > 0:
        parts.append(_uniform(k, n_uniform, like, generator))
    return torch.cat(parts, dim=1)


@torch.no_grad()
def teacher_targets(forward: BatchedForward, params: Mapping[str, Tensor], config: TeacherConfig, loss: str,
                    generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """(queries [K, N, 3], targets [K, N]) for the reconstruction loss `loss` ("bce" or "mse")."""
    queries = sample_queries(forward, params, config, generator)
    field = evaluate_field(forward, params, queries, config)
    if loss == "bce":
        return queries, labels_from_field(field, config)
    if loss == "mse":
        return queries, clamp_field(field, config)
    raise ValueError(f"loss must be 'bce' or 'mse', got {loss!r}")
