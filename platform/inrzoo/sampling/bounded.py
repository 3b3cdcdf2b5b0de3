"""Davies' importance resampling without the distance of every pool point.

The exact procedure (`importance.resample` over the cumulative weights of the whole pool) draws
n pool indices i.i.d. with probability w_i / sum(w), w_i = exp(-beta |d_i|), and so needs the
exact distance of every pool point. This module draws from the same law by rejection:

1. Exact distances d(c) at the centres of a G^3 grid over the pool's cube. A distance to a set
   is 1-Lipschitz, so a point x of the cell with centre c has
   max(0, d(c) - |x - c|) <= d(x) <= d(c) + |x - c|, and every point of that cell has
   d >= lo_cell = max(0, d(c) - half the cell diagonal).
2. Proposals: pool indices drawn i.i.d. with probability proportional to exp(-beta lo_cell) of
   their cell (an upper bound of w, so the proposal covers the target law).
3. Each proposal is accepted with probability w_i / exp(-beta lo_cell): with u ~ U(0, 1), accept
   iff log u < -beta (d_i - lo_cell). The point's own bounds decide most proposals; the exact
   distance is computed only where log u falls between the two bounded values.

Accepted proposals are i.i.d. draws of the target law (standard rejection sampling), taken in
proposal order until n are accepted: the same distribution of the selection as the exact
procedure, given the same pool. tests/sampling/test_importance_bounded.py checks it
statistically against the exact probabilities and against the exact procedure.

Cost: G^3 grid queries plus about 1-1.5 exact distances per kept sample instead of one per
pool point (10 per kept sample for Davies' 10M pool / 1M samples).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# Slack added to every bound, relative to the domain's radius: covers float32 rounding of the
# distances (the exact procedure's weights use float32 distances too) and of |x - c|.
BOUND_SLACK = 1e-6
# Proposals per round are capped so one round's temporaries stay small.
MAX_ROUND = 4_000_000


class CellBounds:
    """Exact distances at the cell centres of a G^3 grid over the cube [-radius, radius]^3."""

    def __init__(self, distance: Callable[[np.ndarray], np.ndarray], grid: int, radius: float, source: str = "<shape>"):
        self.grid = grid
        self.radius = radius
        self.step = 2.0 * radius / grid
        self.half_diagonal = 0.5 * np.sqrt(3.0) * self.step
        self.slack = BOUND_SLACK * max(1.0, radius)
        axis = -radius + self.step * (np.arange(grid) + 0.5)
        centres = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)
        self.centres = centres
        # Cells that cannot hold a point of the ball stay at +inf (never proposed).
        self.useful = np.linalg.norm(centres, axis=1) <= radius + self.half_diagonal
        self.centre_distance = np.full(len(centres), np.inf)
        self.centre_distance[self.useful] = np.asarray(distance(centres[self.useful].astype(np.float32)), dtype=np.float64)
        if not np.all(np.isfinite(self.centre_distance[self.useful])):
            raise ValueError(f"{source}: non-finite distances at the bounding grid's cell centres")
        self.cell_low = np.maximum(self.centre_distance - self.half_diagonal - self.slack, 0.0)

    def cells(self, points: np.ndarray, block: int = 1 << 21) -> np.ndarray:
        """Flat cell index (int32) of each point, in blocks (the pool may hold 10M points)."""
        out = np.empty(len(points), dtype=np.int32)
        scale = np.float32(1.0 / self.step)
        for start in range(0, len(points), block):
            ijk = np.floor((points[start:start + block] + np.float32(self.radius)) * scale).astype(np.int32)
            np.clip(ijk, 0, self.grid - 1, out=ijk)
            out[start:start + block] = (ijk[:, 0] * self.grid + ijk[:, 1]) * self.grid + ijk[:, 2]
        return out

    def point_bounds(self, points: np.ndarray, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds (float64) of each point's distance from its cell centre's."""
        offset = np.linalg.norm(points.astype(np.float64) - self.centres[cells], axis=1)
        centre = self.centre_distance[cells]
        return np.maximum(centre - offset - self.slack, 0.0), centre + offset + self.slack


def select_bounded(
    pool: np.ndarray,
    n: int,
    beta: float,
    distance: Callable[[np.ndarray], np.ndarray],
    rng: np.random.Generator,
    *,
    grid: int,
    radius: float,
    source: str = "<shape>",
) -> tuple[np.ndarray, np.ndarray]:
    """n pool indices drawn i.i.d. with probability exp(-beta d_i) / sum_j exp(-beta d_j), and
    the distances (float32) computed on the way for them (NaN where the bounds decided alone).

    `distance(points float32 [M,3]) -> [M]` is the exact unsigned distance; every pool point
    must lie in the cube [-radius, radius]^3.
    """
    bounds = CellBounds(distance, grid, radius, source)
    cells = bounds.cells(pool)
    # log of the proposal weight, shifted so the largest is 0 (no underflow for large beta).
    log_upper = np.full(len(bounds.cell_low), -np.inf)
    log_upper[bounds.useful] = -beta * bounds.cell_low[bounds.useful]
    log_upper -= log_upper[cells].max()
    cdf = np.exp(log_upper)[cells]
    np.cumsum(cdf, out=cdf)
    known = np.full(len(pool), np.nan, dtype=np.float32)  # exact distances computed so far
    accepted: list[np.ndarray] = []
    count, proposed, acceptance = 0, 0, 0.5
    while count < n:
        m = min(MAX_ROUND, int((n - count) / max(acceptance, 1e-3) * 1.1) + 64)
        index = resample(cdf, m, rng)
        log_u = np.log(rng.random(m))
        low, high = bounds.point_bounds(pool[index], cells[index])
        floor = bounds.cell_low[cells[index]]
        # accept iff log_u < -beta (d - floor); d in [low, high] settles most proposals.
        accept = log_u < -beta * (high - floor)
        undecided = ~accept & (log_u < -beta * (low - floor))
        if undecided.any():
            need = np.unique(index[undecided & np.isnan(known[index])])
            if need.size:
                known[need] = distance(pool[need])
                if not np.all(np.isfinite(known[need])):
                    raise ValueError(f"{source}: non-finite distances in the sampling pool")
            d = known[index[undecided]].astype(np.float64)
            accept[undecided] = log_u[undecided] < -beta * (d - floor[undecided])
        kept = index[accept]
        accepted.append(kept)
        count += kept.size
        proposed += m
        acceptance = count / proposed
    chosen = np.concatenate(accepted)[:n]
    return chosen, known[chosen]


def resample(cdf: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n indices drawn with replacement, index i with probability (cdf[i] - cdf[i-1]) / cdf[-1]."""
    targets = rng.random(n) * cdf[-1]
    chosen = np.searchsorted(cdf, targets, side="right")
    # Guard the float edge case target == cdf[-1].
    np.minimum(chosen, cdf.shape[0] - 1, out=chosen)
    return chosen
