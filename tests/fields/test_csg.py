"""CSG on signed distance fields against analytic answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from field_helpers import lumpy_field
from inrzoo import fields
from inrzoo.fields.csg import smin


@pytest.fixture
def points():
    return np.random.default_rng(0).uniform(-1.2, 1.2, (4000, 3)).astype(np.float32)


def sphere_sdf(x, center, r):
    return np.linalg.norm(x - np.asarray(center), axis=1) - r


def test_primitives_are_the_exact_distances(points):
    np.testing.assert_allclose(fields.sphere(0.5)(points), sphere_sdf(points, [0, 0, 0], 0.5), atol=1e-6)
    half = np.array([0.3, 0.5, 0.2])
    q = np.abs(points) - half
    box = np.linalg.norm(np.maximum(q, 0), axis=1) + np.minimum(q.max(axis=1), 0)
    np.testing.assert_allclose(fields.box(half)(points), box, atol=1e-6)
    ring = np.linalg.norm(points[:, :2], axis=1) - 0.6
    np.testing.assert_allclose(fields.torus(0.6, 0.2)(points), np.hypot(ring, points[:, 2]) - 0.2, atol=1e-6)


def test_union_of_two_spheres_is_the_exact_minimum(points):
    a, b = fields.sphere(0.4).translate([0.5, 0, 0]), fields.sphere(0.3).translate([-0.4, 0.1, 0])
    expected = np.minimum(sphere_sdf(points, [0.5, 0, 0], 0.4), sphere_sdf(points, [-0.4, 0.1, 0], 0.3))
    np.testing.assert_allclose((a | b)(points), expected, atol=1e-6)
    np.testing.assert_allclose(fields.union(a, b)(points), expected, atol=1e-6)
    np.testing.assert_allclose((a & b)(points), np.maximum(sphere_sdf(points, [0.5, 0, 0], 0.4),
                                                            sphere_sdf(points, [-0.4, 0.1, 0], 0.3)), atol=1e-6)


def test_difference_cuts_a_hole():
    cube_with_hole = fields.box(0.5) - fields.sphere(0.3)
    values = cube_with_hole(np.array([[0, 0, 0], [0.2, 0, 0], [0.4, 0.4, 0.0], [0.45, 0, 0]], dtype=np.float32))
    assert values[0] == pytest.approx(0.3, abs=1e-6)  # the centre is 0.3 from the hole's wall, outside
    assert values[1] == pytest.approx(0.1, abs=1e-6)
    assert values[2] < 0  # a corner region stays solid
    assert values[3] == pytest.approx(-0.05, abs=1e-6)  # between hole (0.15) and face (0.05): the face is nearer
    mesh = cube_with_hole.mesh(64)
    assert mesh.volume == pytest.approx(1.0 - 4 / 3 * np.pi * 0.3**3, rel=0.03)


def test_smooth_union_stays_within_its_known_bound():
    rng = np.random.default_rng(1)
    a, b = (torch.tensor(rng.uniform(-1, 1, 10_000)) for _ in range(2))
    for k in (0.05, 0.2, 0.5):
        blended = smin(a, b, k)
        low = torch.minimum(a, b)
        assert torch.all(blended <= low + 1e-12)
        assert torch.all(blended >= low - k / 4 - 1e-12)
        far = (a - b).abs() >= k
        assert torch.equal(blended[far], low[far])
    # two spheres touching at the origin: the blend fills the neck by exactly k/4 there
    pair = fields.sphere(0.5).translate([0.5, 0, 0]).smooth_union(fields.sphere(0.5).translate([-0.5, 0, 0]), k=0.2)
    assert pair(np.zeros((1, 3), dtype=np.float32))[0] == pytest.approx(-0.05, abs=1e-6)


def test_transforms_keep_distances(points):
    moved = fields.sphere(0.3).translate([0.2, -0.1, 0.4])
    np.testing.assert_allclose(moved(points), sphere_sdf(points, [0.2, -0.1, 0.4], 0.3), atol=1e-6)
    scaled = fields.sphere(0.3).scale(2.0)  # s f(x / s): a sphere of radius 0.6, in distance units
    np.testing.assert_allclose(scaled(points), sphere_sdf(points, [0, 0, 0], 0.6), atol=1e-6)
    turned = fields.box([0.5, 0.1, 0.1]).rotate("z", 90)  # the long side now lies along y
    np.testing.assert_allclose(turned(points), fields.box([0.1, 0.5, 0.1])(points), atol=1e-5)
    both = fields.box([0.5, 0.1, 0.1]).rotate("z", 90).translate([0.3, 0, 0])
    np.testing.assert_allclose(both(points), fields.box([0.1, 0.5, 0.1])(points - [0.3, 0, 0]), atol=1e-5)
    axis = fields.torus(0.5, 0.1).rotate([1, 1, 0], 37).rotate([1, 1, 0], -37)
    np.testing.assert_allclose(axis(points), fields.torus(0.5, 0.1)(points), atol=1e-5)


def test_lipschitz_bound_holds_for_composites():
    inr = lumpy_field((0.5,))
    shape = ((inr | fields.sphere(0.3).translate([0.6, 0, 0])).smooth_union(fields.box(0.2).rotate("x", 30), 0.1)
             - fields.torus(0.4, 0.05).scale(1.5))
    x = (torch.rand(1, 8_000, 3) * 2.4 - 1.2).requires_grad_(True)
    (grad,) = torch.autograd.grad(shape.values(x).sum(), x)
    bound = float(shape.lipschitz()[0])
    assert grad.norm(dim=-1).max() <= bound + 1e-4
    assert bound == pytest.approx(max(float(inr.value_lipschitz()[0]), 1.0))


def test_csg_with_an_inr_row_combines_its_values(points):
    inr = lumpy_field((0.5,))
    shape = inr | fields.sphere(0.2).translate([0.7, 0, 0])
    np.testing.assert_allclose(shape(points), np.minimum(inr(points), sphere_sdf(points, [0.7, 0, 0], 0.2)), atol=1e-6)
    many = lumpy_field((0.4, 0.5, 0.6)) - fields.sphere(0.3)  # rows broadcast against a primitive
    assert many.rows == 3 and many(points).shape == (3, len(points))
    assert many.select([2]).rows == 1


def test_meshes_come_back_as_trimesh():
    import trimesh

    mesh = (fields.sphere(0.3).translate([0.5, 0, 0]) | fields.sphere(0.3).translate([-0.5, 0, 0])).mesh(64)
    assert isinstance(mesh, trimesh.Trimesh)
    assert mesh.volume == pytest.approx(2 * 4 / 3 * np.pi * 0.3**3, rel=0.03)
    assert len(mesh.split()) == 2


def test_bad_operands_are_named():
    sdf = fields.sphere(0.5)
    with pytest.raises(ValueError, match="udf field"):
        sdf | lumpy_field((0.5,), kind="udf")
    with pytest.raises(ValueError, match="rows"):
        lumpy_field((0.4, 0.5)) | lumpy_field((0.4, 0.5, 0.6))
    with pytest.raises(ValueError, match="blend radius"):
        sdf.smooth_union(sdf, k=0)
    with pytest.raises(ValueError, match="rotation axis"):
        sdf.rotate("w", 10)
    with pytest.raises(ValueError, match="uniform scale"):
        sdf.scale(-1)
    with pytest.raises(ValueError, match="radius"):
        fields.sphere(0)
