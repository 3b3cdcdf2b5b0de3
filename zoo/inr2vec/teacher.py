"""The input INRs as teachers: query points and the targets the decoder must reproduce.

inr2vec is trained to reproduce the function of its input INR. Instead of reading the source
meshes, queries are drawn around the INR's own surface (uniform candidates kept with weight
exp(-beta |distance|), as in Davies' importance sampling, then jittered with Gaussian noise of
the configured deviations) plus uniform points in [-1, 1]^3, and the INR is evaluated there.

Targets follow inr2vec: for BCE the clamped distance becomes a label in [0, 1] —
sdf: (clamp(sdf, -c, c) + c) / 2c, udf: 1 - clamp(udf, 0, c) / c, occupancy: the probability —
and the decoder predicts its logit; for MSE the target is the clamped field itself.
"""

from __future__ import annotations

from typing import Callable, Mapping

import torch
from torch import Tensor

from inrzoo.zoo.inr2vec.config import TeacherConfig

# forward(params with a leading K axis, points [K, N, 3]) -> [K, N]: `build(spec).forward`.
BatchedForward = Callable[[Mapping[str, Tensor], Tensor], Tensor]


def field_from_labels(labels: Tensor, config: TeacherConfig) -> Tensor:
    """inr2vec label in [0, 1] -> field value (the inverse of `labels_from_field` on the clamp range)."""
    c = config.clamp
    if config.field == "sdf":
        return labels * (2 * c) - c
    if config.field == "udf":
        return (1 - labels) * c
    return labels


def labels_from_field(field: Tensor, config: TeacherConfig) -> Tensor:
    """Field value -> inr2vec BCE label in [0, 1]."""
    c = config.clamp
    if config.field == "sdf":
        return (field.clamp(-c, c) + c) / (2 * c)
    if config.field == "udf":
        return 1 - field.clamp(0, c) / c
    return field.clamp(0, 1)


def clamp_field(field: Tensor, config: TeacherConfig) -> Tensor:
    """The MSE target: the field restricted to the range the BCE labels cover."""
    c = config.clamp
    if config.field == "sdf":
        return field.clamp(-c, c)
    if config.field == "udf":
        return field.clamp(0, c)
    return field.clamp(0, 1)


def field_from_inr_output(raw: Tensor, config: TeacherConfig) -> Tensor:
    """Raw INR output -> field value, per `config.inr_output`."""
    if config.inr_output == "bce_logit":
        return field_from_labels(torch.sigmoid(raw), config)
    return raw


def field_from_decoder_output(out: Tensor, config: TeacherConfig, loss: str) -> Tensor:
    """Decoder output -> field value: logits of labels for "bce", the field itself for "mse"."""
    if loss == "bce":
        return field_from_labels(torch.sigmoid(out), config)
    if loss == "mse":
        return out
    raise ValueError(f"loss must be 'bce' or 'mse', got {loss!r}")


def surface_level(config: TeacherConfig) -> float:
    """Iso-level for marching cubes on the field: 0 for sdf, 0.5 for occupancy, a thin shell for udf."""
    return {"sdf": 0.0, "udf": 0.1 * config.clamp, "occupancy": 0.5}[config.field]


def distance_to_surface(field: Tensor, config: TeacherConfig) -> Tensor:
    """A non-negative score that is 0 on the surface, for importance sampling."""
    if config.field == "occupancy":
        return (field - 0.5).abs()
    return field.abs()


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
        score = distance_to_surface(evaluate_field(forward, params, pool, config), config)
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
