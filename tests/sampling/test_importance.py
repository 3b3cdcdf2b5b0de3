"""Davies importance sampling: the resampling law, concentration with beta, values, memory blocks."""

from __future__ import annotations

import numpy as np
import pytest

from inrzoo import geometry
from inrzoo.sampling import ImportanceSampler
from inrzoo.sampling.importance import resample

SMALL = dict(n=20_000, pool_size=100_000)
TINY = dict(n=5_000, pool_size=40_000)


def expected_share_near_sphere(beta: float, radius: float, band: float) -> float:
    """P(|d| < band) for the pool law 3 r^2 on the unit ball reweighted by exp(-beta |r - radius|)."""
    r = np.linspace(0.0, 1.0, 200_001)
    density = 3 * r**2 * np.exp(-beta * np.abs(r - radius))
    near = np.abs(r - radius) < band
    return float(np.trapezoid(density * near, r) / np.trapezoid(density, r))


@pytest.mark.parametrize("beta", [0.0, 30.0])
def test_samples_follow_the_weighted_pool_law(beta, sphere):
    s = ImportanceSampler(beta=beta, **SMALL).sample(sphere, 0)
    share = float(np.mean(np.abs(np.linalg.norm(s.points, axis=1) - 0.5) < 0.05))
    assert share == pytest.approx(expected_share_near_sphere(beta, 0.5, 0.05), abs=0.015)


def test_samples_concentrate_near_the_surface_as_beta_grows(sphere):
    spread = [np.abs(ImportanceSampler(beta=b, **TINY).sample(sphere, 1).values).mean() for b in (0, 10, 30, 100)]
    assert all(a > b for a, b in zip(spread, spread[1:])), spread
    assert spread[-1] < 0.02


def test_pool_is_the_bounding_sphere_and_values_are_the_ground_truth(sphere):
    s = ImportanceSampler(radius=0.9, **TINY).sample(sphere, 2)
    assert len(s) == TINY["n"] and s.field == "sdf"
    assert np.linalg.norm(s.points, axis=1).max() <= 0.9 + 1e-6
    np.testing.assert_allclose(s.values, geometry.ground_truth(sphere, s.points, "sdf"), atol=1e-6)
    assert (s.values < 0).any() and (s.values > 0).any()


def test_huge_beta_does_not_underflow(sphere):
    s = ImportanceSampler(beta=5_000.0, n=1_000, pool_size=20_000).sample(sphere, 4)
    assert np.abs(s.values).max() < 0.01


def test_real_mesh_and_other_fields(bunny, voxels):
    s = ImportanceSampler(**TINY).sample(bunny, 5)
    assert np.mean(np.abs(s.values) < 0.05) > 0.5 and (s.values < 0).any()
    occ = ImportanceSampler(**TINY).sample(voxels, 5)
    assert occ.field == "occupancy" and set(np.unique(occ.values)) == {0.0, 1.0}
    # The box of voxels spans [-0.6, 0.6]^3: samples crowd its boundary.
    box_distance = np.abs(np.abs(occ.points).max(axis=1) - 0.6)
    assert np.mean(box_distance < 0.1) > 0.5


def test_resample_draws_in_proportion_to_the_weights():
    weights = np.array([1.0, 0.0, 3.0, 6.0])
    chosen = resample(np.cumsum(weights), 100_000, np.random.default_rng(0))
    share = np.bincount(chosen, minlength=4) / chosen.size
    np.testing.assert_allclose(share, weights / weights.sum(), atol=0.01)
    assert share[1] == 0.0


def test_bad_configs_are_refused():
    with pytest.raises(ValueError, match="beta"):
        ImportanceSampler(beta=-1.0)
    with pytest.raises(ValueError, match="pool_size"):
        ImportanceSampler(pool_size=0)
    with pytest.raises(ValueError, match="radius"):
        ImportanceSampler(radius=0.0)
