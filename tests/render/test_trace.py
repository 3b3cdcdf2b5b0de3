"""Ray queries: sphere tracing against exact intersections and a dense march, bundles, field kinds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from field_helpers import lumpy_field
from inrzoo import fields
from inrzoo.fit import LossConfig, make_loss
from inrzoo.render import Camera, trace


def camera_rays(field, size=24, camera=None):
    eye, directions, pixel = (camera or Camera()).rays(size, size, field.radius)
    near, far = trace.ball_interval(eye[None], directions, field.radius)
    seen = (far > near).nonzero().squeeze(1)
    rays = trace.Rays(torch.zeros(len(seen), dtype=torch.long), eye.expand(len(seen), 3), directions[seen],
                      near[seen], far[seen])
    return rays, seen, 0.5 * pixel, size


def hits(status):
    return (status == trace.CONVERGED) | (status == trace.INSIDE)


def traced_hits(field, rays, tolerance, tiles=()):
    with torch.no_grad():
        t, status = trace.trace(field, rays, list(tiles), tolerance_per_t=tolerance)
    return t, hits(status)


def test_sphere_hits_match_the_exact_intersection():
    field = fields.sphere(0.5).translate([0.1, -0.2, 0.05])
    rays, _, tolerance, _ = camera_rays(field, size=32)
    t, hit = traced_hits(field, rays, tolerance)
    centre = torch.tensor([0.1, -0.2, 0.05])
    offset = rays.origins - centre
    b = (offset * rays.directions).sum(1)
    disc = b**2 - ((offset**2).sum(1) - 0.25)
    expected = disc > 0
    assert torch.all(hit[expected])  # every ray through the sphere hits it
    # others hit only when passing within the tolerance (half a pixel's footprint)
    grazing = hit & ~expected
    miss_distance = ((offset[grazing] ** 2).sum(1) - b[grazing] ** 2).sqrt() - 0.5
    assert torch.all(miss_distance <= trace.CONVERGE * tolerance * t[grazing] + 1e-6)
    both = hit & expected
    exact = -b[both] - disc[both].sqrt()
    assert torch.all(t[both] <= exact + 1e-5)  # a safe tracer never passes the surface
    t_refined, normals = trace.refine(field, trace.Rays(rays.rows[both], rays.origins[both], rays.directions[both],
                                                        rays.t[both], rays.t_far[both]), t[both], tolerance * t[both])
    surface = rays.origins[both] + exact[:, None] * rays.directions[both]
    facing = -((surface - centre) / 0.5 * rays.directions[both]).sum(1) > 0.7  # within 45 degrees of the normal
    np.testing.assert_allclose(t_refined[facing], exact[facing], atol=2e-3)  # a tenth of the footprint
    points = rays.origins[both] + t[both, None] * rays.directions[both]  # normals where the ray stopped
    np.testing.assert_allclose(normals, (points - centre) / (points - centre).norm(dim=1, keepdim=True), atol=1e-4)


def dense_samples(field, rays, step=2e-3):
    """The level at a fine, fixed spacing along every ray inside the domain ball (brute force):
    (parameters [M, S], levels [M, S]; samples past a ray's exit are +inf)."""
    count = int(((rays.t_far - rays.t).max() / step).item()) + 1
    t = rays.t[:, None] + step * torch.arange(count)[None]
    points = rays.origins[:, None] + t[..., None] * rays.directions[:, None]
    with torch.no_grad():
        h = field.level(points.reshape(1, -1, 3)).reshape(t.shape)
    return t, torch.where(t <= rays.t_far[:, None], h, torch.inf)


# the certified bound of the 8x32 MLP is ~800x its gradients: test it on a shallower one (~6x)
@pytest.mark.parametrize("mode, hidden", [("estimated", (32,) * 8), ("certified", (32,) * 3)])
def test_inr_tracing_finds_the_first_crossing(mode, hidden):
    field = lumpy_field((0.55,), hidden=hidden, lipschitz=mode)
    rays, _, tolerance, _ = camera_rays(field, size=24)
    t, hit = traced_hits(field, rays, tolerance)
    t_dense, h_dense = dense_samples(field, rays)
    lowest = h_dense.min(dim=1).values
    assert torch.all(hit[lowest < -1e-3])  # a ray that enters the solid is never missed
    assert not torch.any(hit[lowest > 1.1 * tolerance * rays.t_far])  # one that stays clear never hits
    first = t_dense.gather(1, (h_dense <= 0).to(torch.uint8).argmax(dim=1, keepdim=True))[:, 0]
    both = hit & (lowest < 0)
    assert torch.all(t[both] <= first[both] + 1e-4)  # and never goes past the first crossing


def test_bundles_start_their_rays_safely():
    field = lumpy_field((0.4, 0.6))
    single, seen, tolerance, size = camera_rays(field, size=24)
    rays = trace.Rays(torch.cat([single.rows, single.rows + 1]), single.origins.repeat(2, 1),
                      single.directions.repeat(2, 1), single.t.repeat(2), single.t_far.repeat(2))
    pixels = seen.repeat(2)
    tiles = [(pixels // size // s) * (size // s) + (pixels % size) // s for s in (8, 4, 2)]  # 24 = 3 x 8
    t_plain, hit_plain = traced_hits(field, rays, tolerance)
    t_bundled, hit_bundled = traced_hits(field, rays, tolerance, tiles)
    assert (hit_plain != hit_bundled).float().mean() < 0.01  # grazing rays sample their closest approach differently
    for k in range(2):
        mine = slice(k * len(seen), (k + 1) * len(seen))
        one = trace.Rays(single.rows, single.origins, single.directions, single.t, single.t_far)
        t_dense, h_dense = dense_samples(field.select([k]), one, step=4e-3)
        lowest = h_dense.min(dim=1).values
        assert torch.all(hit_bundled[mine][lowest < -1e-3])  # no bundle skipped a crossing
        first = t_dense.gather(1, (h_dense <= 0).to(torch.uint8).argmax(dim=1, keepdim=True))[:, 0]
        entered = hit_bundled[mine] & (lowest < 0)
        assert torch.all(t_bundled[mine][entered] <= first[entered] + 1e-4)


def test_rows_traced_together_match_rows_traced_alone():
    field = lumpy_field((0.35, 0.5, 0.65))
    rays, _, tolerance, _ = camera_rays(field, size=16)
    n = len(rays.t)
    together = trace.Rays(torch.arange(3).repeat_interleave(n), rays.origins.repeat(3, 1), rays.directions.repeat(3, 1),
                          rays.t.repeat(3), rays.t_far.repeat(3))
    with torch.no_grad():
        t, status = trace.trace(field, together, [], tolerance_per_t=tolerance)
        for k in range(3):
            t_alone, status_alone = trace.trace(field.select([k]), rays, [], tolerance_per_t=tolerance)
            assert torch.equal(status[k * n:(k + 1) * n], status_alone)
            np.testing.assert_allclose(t[k * n:(k + 1) * n], t_alone, atol=1e-5)


def test_occupancy_is_marched_and_bisected_onto_the_same_surface():
    spec, params = lumpy_field((0.5,)).spec, lumpy_field((0.5,)).params
    sdf = fields.INRField(spec.replace(output="none"), params)
    logits = {**params, "output.weight": -params["output.weight"], "output.bias": -params["output.bias"]}
    occupancy = fields.INRField(spec.replace(output="none"), logits, kind="occupancy",
                                decode=make_loss(LossConfig(name="focal"), "occupancy").decode)
    rays, _, tolerance, _ = camera_rays(sdf, size=16)
    t_occ, hit_occ = traced_hits(occupancy, rays, tolerance)
    t_dense, h_dense = dense_samples(sdf, rays)
    lowest = h_dense.min(dim=1).values
    assert not torch.any(hit_occ[lowest > 0])  # only real crossings
    assert torch.all(hit_occ[lowest < -0.05])  # none wider than a step is missed
    first = t_dense.gather(1, (h_dense <= 0).to(torch.uint8).argmax(dim=1, keepdim=True))[:, 0]
    step = 2.0 / trace.MARCH_STEPS
    assert torch.all((t_occ[hit_occ] - first[hit_occ]).abs() <= step)


def test_unsigned_fields_are_drawn_as_a_thin_shell():
    sdf = lumpy_field((0.5,))
    udf = fields.INRField(sdf.spec, sdf.params, kind="udf")  # tanh(g) read as a distance: shell at 0.005
    assert udf._raw_level == pytest.approx(float(np.arctanh(fields.neural.SHELL)), rel=1e-6)
    rays, _, tolerance, _ = camera_rays(sdf, size=16)
    t_udf, hit_udf = traced_hits(udf, rays, tolerance)
    t_dense, h_dense = dense_samples(udf, rays)  # level of the shell: g - c
    lowest = h_dense.min(dim=1).values
    assert torch.all(hit_udf[lowest < -1e-3])
    first = t_dense.gather(1, (h_dense <= 0).to(torch.uint8).argmax(dim=1, keepdim=True))[:, 0]
    entered = hit_udf & (lowest < 0)
    assert torch.all(t_udf[entered] <= first[entered] + 1e-4)  # stops at the shell, not inside it
