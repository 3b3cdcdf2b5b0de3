"""Query points around the surfaces of K implicit fields, for models that distill INRs.

Uniform candidates in [-1, 1]^3 are kept with weight exp(-beta |f|) (Davies' importance
sampling, on each field's own values), jittered by Gaussian noise of one of `stds` each, plus a
share of uniform points. No mesh is read: the INRs themselves say where their surfaces are.
Used by inr2vec's teacher and by NetSpace's SDF distillation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from dataclasses import field as _field

import torch
from torch import Tensor


@dataclass
class SurfaceQueries:
    num_queries: int = 10_000
    near_fraction: float = 0.8  # the rest are uniform in [-1, 1]^3
    pool_factor: int = 4  # uniform candidates per near-surface query
    beta: float = 30.0  # importance weight exp(-beta |field|)
    stds: list[float] = _field(default_factory=lambda: [0.003, 0.01, 0.1])  # jitter around picks


def uniform_points(k: int, n: int, like: Tensor, generator: torch.Generator | None) -> Tensor:
    return torch.rand(k, n, 3, generator=generator, device=like.device, dtype=like.dtype) * 2 - 1


@torch.no_grad()
def surface_queries(field: Callable[[Tensor], Tensor], k: int, like: Tensor, num_queries: int, near_fraction: float,
                    pool_factor: int, beta: float, stds: Sequence[float],
                    generator: torch.Generator | None = None) -> Tensor:
    """Query points [K, num_queries, 3]; `field(points [K, M, 3]) -> [K, M]` has its surface at 0."""
    n_near = int(round(num_queries * near_fraction))
    n_uniform = num_queries - n_near
    parts = []
    if n_near > 0:
        pool = uniform_points(k, n_near * pool_factor, like, generator)
        score = field(pool).abs()
        # Subtract the per-field minimum so the weights never all underflow to zero.
        weights = torch.exp(-beta * (score - score.amin(dim=1, keepdim=True)))
        picks = torch.multinomial(weights, n_near, replacement=True, generator=generator)
        near = torch.gather(pool, 1, picks.unsqueeze(-1).expand(-1, -1, 3))
        jitter = torch.tensor(list(stds), dtype=like.dtype, device=like.device)
        which = torch.randint(len(jitter), (k, n_near, 1), generator=generator, device=like.device)
        noise = torch.randn(k, n_near, 3, generator=generator, device=like.device, dtype=like.dtype)
        parts.append((near + noise * jitter[which]).clamp(-1, 1))
    if n_uniform > 0:
        parts.append(uniform_points(k, n_uniform, like, generator))
    return torch.cat(parts, dim=1)
