"""The bounded Davies selection draws from the exact procedure's law (statistical tests with fixed
seeds, so they are deterministic), and computes far fewer distances than the pool holds."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from inrzoo import geometry
from inrzoo.sampling import ImportanceSampler
from inrzoo.sampling.bounded import CellBounds, select_bounded
from inrzoo.sampling.domains import uniform_in_ball
from inrzoo.sampling.samples import distance_function

BETA = 30.0
# A p-value below this fails a test; the tests' fixed seeds give values far above it when the
# law is right, and the biased controls below fall far below it.
ALPHA = 1e-3


def pool_and_distances(shape, size: int, seed: int):
    pool = uniform_in_ball(size, np.random.default_rng(seed))
    return pool, distance_function(shape)(pool).astype(np.float64)


def chi_square_against_law(chosen: np.ndarray, pool: np.ndarray, d: np.ndarray, beta: float) -> float:
    """p-value of the selection's counts in bins of (|d| decile under the target law) x (octant)
    against the exact probabilities p_i = exp(-beta d_i) / sum: i.i.d. draws give multinomial counts."""
    p = np.exp(-beta * (d - d.min()))
    p /= p.sum()
    order = np.argsort(d)
    decile = np.empty(len(d), dtype=np.int64)
    decile[order] = np.minimum((np.cumsum(p[order]) * 10).astype(np.int64), 9)
    octant = ((pool[:, 0] > 0) * 4 + (pool[:, 1] > 0) * 2 + (pool[:, 2] > 0)).astype(np.int64)
    bins = decile * 8 + octant
    expected = np.bincount(bins, weights=p, minlength=80) * len(chosen)
    observed = np.bincount(bins[chosen], minlength=80)
    use = expected > 5
    observed, expected = observed[use], expected[use]
    expected *= observed.sum() / expected.sum()
    return float(stats.chisquare(observed, expected).pvalue)


@pytest.mark.parametrize("grid", [6, 48])
def test_selection_follows_the_exact_probabilities(bunny, grid):
    pool, d = pool_and_distances(bunny, 100_000, seed=0)
    chosen, _ = select_bounded(pool, 60_000, BETA, distance_function(bunny), np.random.default_rng(1),
                               grid=grid, radius=1.0)
    assert chosen.shape == (60_000,)
    assert chi_square_against_law(chosen, pool, d, BETA) > ALPHA


def test_the_law_check_rejects_a_biased_selection(bunny):
    """Power of the check above: a selection with a 10% smaller beta, or one that takes each
    proposal's upper bound as its weight (no exact distances), is rejected."""
    pool, d = pool_and_distances(bunny, 100_000, seed=0)
    wrong_beta, _ = select_bounded(pool, 60_000, 0.9 * BETA, distance_function(bunny), np.random.default_rng(1),
                                   grid=48, radius=1.0)
    assert chi_square_against_law(wrong_beta, pool, d, BETA) < 1e-6
    bounds = CellBounds(distance_function(bunny), 48, 1.0)
    cells = bounds.cells(pool)
    weight = np.exp(-BETA * bounds.cell_low[cells])
    proposals_only = np.random.default_rng(1).choice(len(pool), 60_000, p=weight / weight.sum())
    assert chi_square_against_law(proposals_only, pool, d, BETA) < 1e-6


def test_exact_and_bounded_samplers_agree_in_distribution(bunny):
    """Two-sample KS between the exact procedure (every pool distance) and the bounded one, on
    |d|, on each coordinate and on the radius, both from 200K-point pools with their own seeds."""
    exact = ImportanceSampler(n=30_000, pool_size=200_000, bound_grid=0).sample(bunny, 11)
    fast = ImportanceSampler(n=30_000, pool_size=200_000, bound_grid=48).sample(bunny, 12)
    pairs = {"|d|": (np.abs(exact.values), np.abs(fast.values)),
             "radius": (np.linalg.norm(exact.points, axis=1), np.linalg.norm(fast.points, axis=1))}
    pairs.update({f"x{i}": (exact.points[:, i], fast.points[:, i]) for i in range(3)})
    for name, (a, b) in pairs.items():
        assert stats.ks_2samp(a, b).pvalue > ALPHA, name
    inside = [np.mean(s.values < 0) for s in (exact, fast)]
    assert inside[0] == pytest.approx(inside[1], abs=0.02)


def test_values_are_the_ground_truth_and_few_distances_are_computed(bunny, monkeypatch):
    import inrzoo.sampling.importance as importance

    calls = []
    real = importance.distance_function

    def counting(shape):
        function = real(shape)
        return lambda points: calls.append(len(points)) or function(points)

    monkeypatch.setattr(importance, "distance_function", counting)
    s = ImportanceSampler(n=20_000, pool_size=400_000, bound_grid=32).sample(bunny, 3)
    np.testing.assert_allclose(s.values, geometry.signed_distance(bunny, s.points), atol=0)
    grid_queries = calls[0]
    assert grid_queries < 32**3
    # About one exact distance per kept sample on top of the grid, not one per pool point.
    assert sum(calls[1:]) < 2 * 20_000, calls


@pytest.mark.parametrize("fixture", ["cloud", "voxels", "square"])
def test_other_shapes_and_fields(fixture, request):
    shape = request.getfixturevalue(fixture)
    field = "udf" if fixture == "square" else None
    s = ImportanceSampler(n=5_000, pool_size=50_000, field=field).sample(shape, 4)
    exact = ImportanceSampler(n=5_000, pool_size=50_000, field=field, bound_grid=0).sample(shape, 5)
    np.testing.assert_allclose(s.values, geometry.ground_truth(shape, s.points, s.field), atol=1e-6)
    if s.field != "occupancy":
        assert stats.ks_2samp(s.values, exact.values).pvalue > ALPHA


def test_beta_zero_keeps_the_pool_law(sphere):
    s = ImportanceSampler(n=20_000, pool_size=100_000, beta=0.0).sample(sphere, 6)
    radius = np.linalg.norm(s.points, axis=1)
    assert stats.kstest(radius**3, "uniform").pvalue > ALPHA


def test_bad_bound_grid_is_refused():
    with pytest.raises(ValueError, match="bound_grid"):
        ImportanceSampler(bound_grid=-1)
