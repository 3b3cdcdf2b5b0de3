"""The Samples container, block-wise ground truth and the shared point generators."""

from __future__ import annotations

import numpy as np
import pytest

from inrzoo import geometry, sampling
from inrzoo.sampling import domains, samples


def test_samples_validate_and_convert():
    s = sampling.Samples(points=np.zeros((4, 3)), values=[0, 1, 2, 3], field="sdf")
    assert s.points.dtype == np.float32 and s.values.dtype == np.float32 and len(s) == 4
    with pytest.raises(ValueError, match=r"\[N, 3\]"):
        sampling.Samples(points=np.zeros((4, 2)), values=np.zeros(4), field="sdf")
    with pytest.raises(ValueError, match="4 points but 3 values"):
        sampling.Samples(points=np.zeros((4, 3)), values=np.zeros(3), field="sdf")
    with pytest.raises(ValueError, match="field"):
        sampling.Samples(points=np.zeros((4, 3)), values=np.zeros(4), field="distance")
    with pytest.raises(ValueError, match="normals"):
        sampling.Samples(points=np.zeros((4, 3)), values=np.zeros(4), field="udf", normals=np.zeros((3, 3)))


def test_concat_keeps_order_and_drops_partial_normals():
    a = sampling.Samples(np.zeros((2, 3)), np.zeros(2), "udf", normals=np.ones((2, 3)))
    b = sampling.Samples(np.ones((3, 3)), np.ones(3), "udf")
    both = sampling.concat([a, b])
    assert len(both) == 5 and both.normals is None and both.values.tolist() == [0, 0, 1, 1, 1]
    assert sampling.concat([a, a]).normals.shape == (4, 3)
    with pytest.raises(ValueError, match="different fields"):
        sampling.concat([a, sampling.Samples(np.zeros((1, 3)), np.zeros(1), "sdf")])


def test_distances_for_the_weights_match_the_ground_truth(sphere, voxels):
    pts = domains.uniform_in_box(5_000, np.random.default_rng(0))
    sdf = samples.evaluate(sphere, pts, "sdf")
    np.testing.assert_array_equal(sdf, geometry.ground_truth(sphere, pts, "sdf"))
    np.testing.assert_allclose(samples.unsigned_distances(sphere, pts), np.abs(sdf), atol=1e-6)
    # Voxels: distance to the nearest boundary-voxel centre. The box of voxels spans [-0.6, 0.6]^3
    # with centres at +-0.1, +-0.3, +-0.5 on each axis; the closest boundary centre to the origin
    # is (0.5, 0.1, 0.1) or a mirror of it.
    assert samples.unsigned_distances(voxels, np.zeros((1, 3)))[0] == pytest.approx(np.sqrt(0.27))


def test_uniform_in_ball_fills_the_ball_uniformly():
    pts = domains.uniform_in_ball(200_000, np.random.default_rng(1), radius=2.0)
    r = np.linalg.norm(pts, axis=1)
    assert r.max() <= 2.0 + 1e-6
    # Uniform in volume: (r / R)^3 is uniform on [0, 1] (mean 1/2, variance 1/12).
    u = (r / 2.0) ** 3
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    assert np.all(np.abs(pts.mean(axis=0)) < 0.02)


def test_gaussian_shells_use_every_surface_point_before_reusing_one():
    surface = np.arange(30, dtype=np.float32).reshape(10, 3)
    shells = domains.gaussian_shells(surface, (1e-9, 1e-9), (10, 25), np.random.default_rng(0))
    assert shells.shape == (35, 3)
    first = np.round(shells[:10]).astype(int)
    assert sorted(map(tuple, first)) == sorted(map(tuple, surface.astype(int)))
    counts = np.bincount((np.round(shells[10:, 0]) // 3).astype(int), minlength=10)
    assert counts.min() == 2 and counts.max() == 3
    with pytest.raises(ValueError, match="2 standard deviations but 1 counts"):
        domains.gaussian_shells(surface, (0.1, 0.2), (5,), np.random.default_rng(0))


def test_resolve_field_and_generators():
    with pytest.raises(ValueError, match="kind"):
        samples.resolve_field(object(), None)
    with pytest.raises(TypeError, match="Generator"):
        samples.as_generator(0.5)
    rng = np.random.default_rng(3)
    assert samples.as_generator(rng) is rng

