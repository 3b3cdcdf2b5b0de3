"""Davies et al.'s importance sampling for weight-encoded neural implicits.

A pool of `pool_size` points uniform in the bounding sphere (the unit sphere of the normalized
frame, `normalize(shape, mode="sphere")`) is resampled with replacement, each point drawn with
probability proportional to w(x) = exp(-beta * |d(x)|), where d is the distance to the surface.
Large beta concentrates the samples near the surface; beta = 30 in the unit-sphere frame is the
default here (a config value, so other frames or shapes can change it).

Memory: the pool is float32 (12 bytes a point) and the geometry module computes its distances
in blocks of 1M points, so a 10M pool with 1M samples peaks well under 2 GiB
(benchmarks/sampling_memory.py measures ~350 MiB on a 208K-face mesh).
The weights need only the unsigned distance, which skips the winding-number sign for the pool;
the sampled field (sdf, udf or occupancy) is then evaluated only at the distinct chosen points.

With `bound_grid` > 0 (the default) the pool's distances are not all computed: the selection
is drawn from the same law by rejection against 1-Lipschitz bounds from a grid of exact
distances (`inrzoo.sampling.bounded`), with exact distances only where the bounds cannot
decide; `bound_grid: 0` computes every pool point's distance as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from inrzoo.sampling.bounded import resample, select_bounded
from inrzoo.sampling.domains import check_positive, uniform_in_ball
from inrzoo.sampling.samples import (
    FieldName,
    Samples,
    as_generator,
    check_counts,
    check_field,
    distance_function,
    evaluate,
    resolve_field,
)

if TYPE_CHECKING:
    from inrzoo.geometry import Shape


@dataclass
class ImportanceSampler:
    """Davies importance sampling: uniform pool in the bounding sphere, resampled by exp(-beta |d|).

    bound_grid: cells per axis of the grid of exact distances that bounds the pool's distances
    (chosen: 48, about one exact distance per kept sample); 0 computes every pool distance.
    """

    n: int = 1_000_000
    pool_size: int = 10_000_000
    beta: float = 30.0
    radius: float = 1.0
    field: FieldName | None = None
    bound_grid: int = 48

    def __post_init__(self) -> None:
        check_counts("ImportanceSampler", n=self.n)
        check_counts("ImportanceSampler", pool_size=self.pool_size)
        if isinstance(self.beta, bool) or not np.isfinite(self.beta) or self.beta < 0:
            raise ValueError(f"ImportanceSampler: beta must be finite and >= 0, got {self.beta!r}")
        check_positive("ImportanceSampler", radius=self.radius)
        check_field(self.field)
        if isinstance(self.bound_grid, bool) or not isinstance(self.bound_grid, int) or self.bound_grid < 0:
            raise ValueError(f"ImportanceSampler: bound_grid must be an integer >= 0, got {self.bound_grid!r}")

    def sample(self, shape: Shape, rng: np.random.Generator | int) -> Samples:
        rng = as_generator(rng)
        field = resolve_field(shape, self.field)
        pool = uniform_in_ball(self.pool_size, rng, self.radius)
        distance = distance_function(shape)
        if self.bound_grid > 0:
            chosen, known = select_bounded(pool, self.n, self.beta, distance, rng,
                                           grid=self.bound_grid, radius=self.radius,
                                           source=str(getattr(shape, "source", "<shape>")))
        else:
            chosen = resample(self._cumulative_weights(distance(pool), shape), self.n, rng)
            known = None
        # Evaluate the field once per distinct pool point; duplicates share the value.
        distinct, first, inverse = np.unique(chosen, return_index=True, return_inverse=True)
        reuse = None if known is None else known[first]
        values = evaluate(shape, pool[distinct], field, unsigned=reuse)
        return Samples(points=pool[chosen], values=values[inverse], field=field)

    def _cumulative_weights(self, dist: np.ndarray, shape: Shape) -> np.ndarray:
        """Running sum (float64) of the weights exp(-beta |d|) over the pool.

        The weights are taken relative to the closest pool point, exp(-beta (|d| - min |d|)):
        the same probabilities, but no underflow to an all-zero sum for large beta.
        """
        if not np.all(np.isfinite(dist)):
            raise ValueError(f"{getattr(shape, 'source', '<shape>')}: non-finite distances in the sampling pool")
        cdf = dist.astype(np.float64)
        del dist
        cdf -= cdf.min()
        cdf *= -self.beta
        np.exp(cdf, out=cdf)
        np.cumsum(cdf, out=cdf)
        return cdf


__all__ = ["ImportanceSampler", "resample"]
