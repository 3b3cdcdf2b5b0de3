"""SAL's sign-agnostic samples: local sigma = k-th neighbour distance, unsigned targets only."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from inrzoo.sampling import SignAgnosticSampler
from inrzoo.sampling.sign_agnostic import local_sigmas


def test_local_sigma_is_the_distance_to_the_kth_neighbour():
    line = np.stack([np.arange(101, dtype=np.float32) * 0.01, np.zeros(101), np.zeros(101)], axis=1)
    sigma = local_sigmas(line, 4, line)
    # Interior points have neighbours at +-1 and +-2 spacings: the 4th is 2 spacings away.
    np.testing.assert_allclose(sigma[10:-10], 0.02, rtol=1e-5)
    # The end point's 4 nearest neighbours are all on one side.
    assert sigma[0] == pytest.approx(0.04, rel=1e-5)
    with pytest.raises(ValueError, match="more than k=4"):
        local_sigmas(line[:4], 4, line[:4])


def test_samples_of_a_point_cloud_target_the_distance_to_its_points(cloud):
    s = SignAgnosticSampler(n_surface=2_000, k=50, global_sigma=0.3).sample(cloud, 0)
    assert s.field == "udf" and len(s) == 4_000
    expected, _ = cKDTree(cloud.points).query(s.points.astype(np.float64))
    np.testing.assert_allclose(s.values, expected, atol=1e-5)
    local, far = s.values[:2_000], s.values[2_000:]
    # The 50th neighbour among 4,000 points on a radius-0.5 sphere is ~0.11 away (a disc holding
    # 50/4000 of the area): local samples stay that close, global ones (sigma 0.3) spread further.
    assert np.median(local) < 0.1 and np.median(far) > 2 * np.median(local)


def test_mesh_scans_use_the_unsigned_distance_and_can_keep_the_surface_points(sphere):
    s = SignAgnosticSampler(n_surface=1_000, k=20, include_surface=True).sample(sphere, 1)
    assert len(s) == 3_000 and np.all(s.values[:1_000] == 0.0) and (s.values >= 0).all()
    np.testing.assert_allclose(s.values[1_000:], np.abs(np.linalg.norm(s.points[1_000:], axis=1) - 0.5), atol=2e-3)
