"""Stopping each shape at a target surface error, checked during the fit (cfg.surface_check)."""

import numpy as np
import pytest

from inrzoo.fit import fit_batch
from inrzoo.fit.config import SurfaceCheckConfig

from fit.fit_helpers import sphere_samples, sphere_surface, tiny_config


def test_shapes_stop_at_the_target_surface_error_and_others_fit_on():
    # Two spheres and a third shape whose surface points are far off its zero set (so its check
    # never passes): the spheres stop early by the check, the third runs to max_steps.
    shapes = [sphere_samples(0.5, 1024, 0), sphere_samples(0.4, 1024, 1), sphere_samples(0.5, 1024, 2)]
    surface = [sphere_surface(0.5), sphere_surface(0.4), sphere_surface(0.95)]
    check = SurfaceCheckConfig(target=0.03, every=32, points=256)
    result = fit_batch(shapes, tiny_config(max_epochs=0, max_steps=640, surface_check=check), surface=surface)

    assert result.stop_reasons == ["surface_target", "surface_target", "max_steps"]
    steps = [m["steps"] for m in result.metrics]
    assert steps[0] < 640 and steps[1] < 640 and steps[2] == 640
    assert all(s % 32 == 0 for s in steps[:2])  # stops only at checks
    # Reported errors use every surface point; the check used the first 256 of them.
    assert result.metrics[0]["surface_error"] < 0.035 and result.metrics[1]["surface_error"] < 0.035


def test_a_stopped_shape_keeps_the_parameters_of_its_stop():
    # The same shape alone, fitted for exactly the steps it took under the check, gets the same weights.
    shape, surface = sphere_samples(0.5, 1024, 0), sphere_surface(0.5)
    check = SurfaceCheckConfig(target=0.03, every=32, points=256)
    stopped = fit_batch([shape], tiny_config(max_epochs=0, max_steps=640, surface_check=check), surface=[surface])
    steps = stopped.metrics[0]["steps"]
    plain = fit_batch([shape], tiny_config(max_epochs=0, max_steps=steps))
    for name, value in stopped.params.items():
        np.testing.assert_array_equal(value.numpy(), plain.params[name].numpy())


def test_without_surface_points_or_target_the_check_is_off():
    shape = sphere_samples(0.5, 1024, 0)
    check = SurfaceCheckConfig(target=0.5, every=8, points=64)
    no_points = fit_batch([shape], tiny_config(max_epochs=0, max_steps=64, surface_check=check))
    no_target = fit_batch([shape], tiny_config(max_epochs=0, max_steps=64), surface=[sphere_surface(0.5)])
    assert no_points.stop_reasons == ["max_steps"] and no_target.stop_reasons == ["max_steps"]


def test_surface_check_settings_are_validated():
    with pytest.raises(ValueError, match="surface_check"):
        tiny_config(surface_check=SurfaceCheckConfig(target=0.01, every=0)).__post_init__()
