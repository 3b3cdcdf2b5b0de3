"""Generated garments: open meshes with the openings their type has, in the right half of the frame,
following their parameters."""

from __future__ import annotations

import numpy as np
import pytest

from inrzoo.garments import GarmentParams, RANGES, sample_params
from inrzoo.garments.clip import clip_mesh, largest_component
from inrzoo.geometry import GeometryError, Mesh, signed_distance
from mesh_helpers import boundary_loops

# Openings: neck, hem and two sleeve ends (or armholes); skirts waist and hem; trousers waist and legs.
OPENINGS = {"tshirt": 4, "longsleeve": 4, "tank": 4, "dress": 4, "skirt": 2, "trousers": 3, "shorts": 3}


def params(garment_type: str, **values: float) -> GarmentParams:
    base = {name: (low + high) / 2 for name, (low, high) in RANGES[garment_type].items()}
    base.update(neck_shape=0.0) if "neck_shape" in base else None
    base.update(values)
    return GarmentParams(garment_type, base)


@pytest.mark.parametrize("garment_type", sorted(OPENINGS))
def test_each_type_is_one_open_piece_with_its_openings(builder, garment_type):
    mesh = builder.build(params(garment_type), name=garment_type)
    assert boundary_loops(mesh.faces) == OPENINGS[garment_type]
    assert np.abs(mesh.vertices).max() < 1.0
    z = mesh.vertices[:, 2]
    if params(garment_type).category == "bottom":
        assert z.max() < 0.05  # at most a rise above the waist (z = 0)
    else:  # up to the shoulders; all but dresses mostly above the waist
        assert z.max() > 0.25 and (garment_type == "dress" or np.median(z) > 0.0)


@pytest.mark.parametrize("garment_type", sorted(OPENINGS))
def test_garments_stand_off_the_body_they_are_made_on(builder, body, garment_type):
    # the tightest fit of each type, widest armholes: tank tops and sleeveless dresses had cut
    # through the shoulders, up to 4 cm deep, before the builder enforced its clearance
    tight = {name: low for name, (low, _) in RANGES[garment_type].items() if "ease" in name}
    tight.update(armhole=RANGES["tank"]["armhole"][1]) if garment_type == "tank" else None
    tight.update(sleeve=0.0) if garment_type == "dress" else None
    mesh = builder.build(params(garment_type, **tight), name=garment_type)
    metres = builder.frame.invert(mesh.vertices)
    clearance = signed_distance(Mesh(body.vertices, body.faces), metres)
    assert clearance.min() >= builder.settings.clearance - 1e-3, f"{garment_type}: {clearance.min() * 100:.2f} cm from the body"


def test_parameters_change_the_garment_as_named(builder):
    short = builder.build(params("tshirt", sleeve=0.08)).vertices
    long = builder.build(params("tshirt", sleeve=0.22)).vertices
    assert np.abs(long[:, 0]).max() > np.abs(short[:, 0]).max() + 0.05
    high = builder.build(params("skirt", hem=-0.35)).vertices
    low = builder.build(params("skirt", hem=-0.8)).vertices
    scale = builder.frame.scale
    assert high[:, 2].min() == pytest.approx(-0.35 / scale, abs=0.03)
    assert low[:, 2].min() == pytest.approx(-0.8 / scale, abs=0.03)
    narrow = builder.build(params("skirt", flare=0.0, hem=-0.6)).vertices
    wide = builder.build(params("skirt", flare=0.5, hem=-0.6)).vertices
    assert np.ptp(wide[:, 0]) > np.ptp(narrow[:, 0]) + 0.1
    shorts = builder.build(params("shorts", leg=0.1)).vertices
    trousers = builder.build(params("trousers", leg=0.6)).vertices
    assert trousers[:, 2].min() < shorts[:, 2].min() - 0.4


def test_a_sleeve_longer_than_the_arm_is_refused(builder):
    with pytest.raises(GeometryError, match="runs past the end of the limb"):
        builder.build(params("longsleeve", sleeve=0.6))


def test_sampled_parameters_stay_in_their_ranges():
    rng = np.random.default_rng(0)
    for garment_type, ranges in RANGES.items():
        p = sample_params(garment_type, rng)
        for name, (low, high) in ranges.items():
            assert low <= p[name] <= high
    assert sample_params("tank", rng)["neck_shape"] in (0.0, 1.0)
    with pytest.raises(ValueError, match="unknown garment type"):
        sample_params("hat", rng)
    with pytest.raises(ValueError, match="differ from"):
        GarmentParams("skirt", {"hem": -0.5})


def test_grid_surface_has_no_zero_area_triangle_where_the_grid_meets_the_surface():
    # A sphere of radius 3 steps through grid points: plain marching cubes gives 171 vertices on
    # 102 spots and 132 triangles of zero area there.
    from inrzoo.garments.build import grid_surface

    x = np.arange(8.0) * 0.03
    grid = np.stack(np.meshgrid(x, x, x, indexing="ij"), axis=-1)
    volume = np.linalg.norm(grid - 0.09, axis=-1) - 0.09
    vertices, faces = grid_surface(volume, 0.03)
    tri = vertices[faces]
    areas = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    assert len(faces) > 250 and areas.min() > 1e-4 * np.median(areas)
    assert len(np.unique(vertices.round(9), axis=0)) == len(vertices)
    np.testing.assert_allclose(np.linalg.norm(vertices - 0.09, axis=1), 0.09, atol=0.004)


def test_clip_cuts_triangles_exactly_along_the_zero_set():
    # A unit square of 2 triangles cut at x = 0.3: the kept part has area 0.7.
    vertices = np.array([[0.0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]])
    faces = np.array([[0, 1, 2], [0, 2, 3]])
    kept_v, kept_f = clip_mesh(vertices, faces, vertices[:, 0] - 0.3)
    tri = kept_v[kept_f]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1).sum()
    assert area == pytest.approx(0.7)
    assert kept_v[:, 0].min() == pytest.approx(0.3)
    assert len(kept_v) == 5  # the two cut points are shared by the triangles on the cut
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    assert (normals[:, 2] > 0).all()  # orientation kept
    # A cut through a vertex (g = 0 there) or a hair's breadth from one leaves no zero-area
    # triangle and no sliver: the cut point is that vertex.
    for offset in (0.0, 1e-9, -1e-9, 0.004):
        g = vertices[:, 0] + vertices[:, 1] - 1 + offset  # the diagonal through vertices 1 and 3
        cut_v, cut_f = clip_mesh(vertices, faces, g)
        tri = cut_v[cut_f]
        areas = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
        assert areas.min() > 1e-3 and areas.sum() == pytest.approx(0.5, abs=0.01)
        assert len(cut_v) == len(np.unique(cut_v.round(12), axis=0))  # no coincident vertices
    # A square (2 faces) and a separate fan of 3 faces: the piece with more faces is kept.
    fan = np.array([[5.0, 0, 0], [6, 0, 0], [6, 1, 0], [5, 1, 0], [5, 0.5, 0]])
    v, f = largest_component(np.concatenate([vertices, fan]),
                             np.concatenate([faces, [[4, 5, 6], [4, 6, 7], [4, 7, 8]]]))
    assert len(f) == 3 and v[:, 0].min() == 5.0
