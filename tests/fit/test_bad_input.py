"""Bad shapes are marked failed with their reason; the other shapes of the batch get exactly
what they get when fitted alone."""

import math

import numpy as np
import pytest
import torch
from fit.fit_helpers import sphere_samples, tiny_config

from inrzoo.fit import FAILED, OK, fit_batch
from inrzoo.sampling import Samples


def _nan_shape() -> Samples:
    s = sphere_samples(0.5, seed=3)
    points = s.points.copy()
    points[7, 1] = np.nan
    return Samples(points, s.values, "sdf")


def _diverging_shape() -> Samples:
    # Finite float32 targets whose batch loss overflows to inf: the loss is non-finite.
    s = sphere_samples(0.5, seed=4)
    return Samples(s.points, np.full(len(s.values), 3.0e38, dtype=np.float32) * np.sign(s.values), "sdf")


def _no_surface_shape() -> Samples:
    s = sphere_samples(0.5, seed=5)
    return Samples(s.points, np.abs(s.values) + 0.1, "sdf")


def test_nan_diverging_and_surfaceless_shapes_fail_alone():
    cfg = tiny_config(max_epochs=3)
    good_a, good_b = sphere_samples(0.4, seed=0), sphere_samples(0.6, seed=1)
    shapes = [good_a, _nan_shape(), _diverging_shape(), good_b, _no_surface_shape()]
    result = fit_batch(shapes, cfg, stream_ids=[0, 1, 2, 3, 4])
    assert result.status == [OK, FAILED, FAILED, OK, FAILED]
    assert "NaN" in result.errors[1]
    assert "diverged" in result.errors[2] and result.stop_reasons[2] == "diverged"
    assert result.errors[4].startswith("no surface")
    assert result.errors[0] is None and result.errors[3] is None
    for i in (1, 2, 4):
        assert all(torch.isnan(t).all() for t in result.shape_params[i].values())
    for i, shape in ((0, good_a), (3, good_b)):
        alone = fit_batch([shape], cfg, stream_ids=[i])
        for name, value in alone.shape_params[0].items():
            torch.testing.assert_close(result.shape_params[i][name], value, rtol=1e-5, atol=1e-6)


def test_loss_growth_beyond_the_divergence_factor_fails_the_shape():
    cfg = tiny_config(max_epochs=6, divergence_factor=1.0)  # any epoch worse than the first
    cfg.optimizer.lr = 1.0  # far too large: the loss grows
    result = fit_batch([sphere_samples(0.5, seed=0)], cfg)
    assert result.status == [FAILED] and "diverged" in result.errors[0]


def test_other_unusable_inputs_are_reported_per_shape():
    cfg = tiny_config(max_epochs=1)
    few = sphere_samples(0.5, n=10)
    occ_constant = Samples(np.zeros((128, 3), np.float32), np.ones(128, np.float32), "occupancy")
    result = fit_batch([few, sphere_samples(0.5)], cfg)
    assert result.status == [FAILED, OK] and "fewer than batch_size" in result.errors[0]
    cfg.loss.name = "focal"
    occ = fit_batch([occ_constant, sphere_samples(0.5, field="occupancy")], cfg)
    assert occ.status == [FAILED, OK] and "no surface" in occ.errors[0]
    with pytest.raises(ValueError, match="mix fields"):
        fit_batch([sphere_samples(0.5), sphere_samples(0.5, field="udf")], cfg)
    with pytest.raises(ValueError, match="cannot fit"):
        cfg.loss.name = "curriculum"
        fit_batch([sphere_samples(0.5, field="udf")], cfg)


def test_bad_surface_points_fail_the_shape():
    cfg = tiny_config(max_epochs=1)
    result = fit_batch([sphere_samples(0.5), sphere_samples(0.5)], cfg, surface=[np.zeros((0, 3)), np.zeros((4, 3))])
    assert result.status == [FAILED, OK] and "empty surface" in result.errors[0]
    assert math.isfinite(result.metrics[1]["surface_error"])
