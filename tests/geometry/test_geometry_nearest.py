"""The compiled closest-point BVH against libigl, and the closed-mesh sign shortcut against the
winding number at every point."""

import shutil
import subprocess
from pathlib import Path

import igl
import numpy as np
import pytest
import trimesh

import inrzoo.geometry as g
import inrzoo.geometry.distance as distance
from inrzoo.geometry import nearest

DATA = Path(__file__).resolve().parents[1] / "data" / "classic"
SOURCES = Path(__file__).resolve().parents[2] / "platform" / "inrzoo" / "geometry"

pytestmark = pytest.mark.skipif(not nearest.available(), reason="compiled closest-point library not built")


def _reference(vertices, faces, points):
    return igl.point_mesh_squared_distance(points, vertices, faces)[0]


def _check_against_libigl(vertices, faces, points):
    tree = nearest.NearestTree(vertices, faces)
    squared, closest, face = tree.query(points, with_face=True)
    reference = _reference(vertices, faces, points)
    scale = max(1.0, float(np.abs(vertices).max()))
    np.testing.assert_allclose(squared, reference, rtol=1e-12, atol=1e-24 * scale**2)
    # The closest point lies at that distance, on the reported face.
    np.testing.assert_allclose(((closest - points) ** 2).sum(axis=1), squared, rtol=1e-9, atol=1e-20 * scale**2)
    triangles = vertices[faces[face]]
    on_own_face = trimesh.triangles.closest_point(triangles, closest)
    np.testing.assert_allclose(on_own_face, closest, atol=1e-9 * scale)
    # Without the optional outputs the distances are the same.
    np.testing.assert_array_equal(tree.query(points, with_closest=False)[0], squared)
    return squared


@pytest.mark.parametrize("name", ["bunny.ply", "elephant-with-holes.off", "eight.off", "open_cube.off"])
def test_distances_equal_libigl_on_real_meshes(name):
    mesh = g.load(DATA / name)
    lo, hi = mesh.bounds
    rng = np.random.default_rng(0)
    span = hi - lo
    around = rng.uniform(lo - 0.2 * span, hi + 0.2 * span, (4000, 3))
    far = rng.normal(size=(200, 3)) * 50 * span.max()
    on_surface = mesh.vertices[rng.integers(0, len(mesh.vertices), 300)]
    points = np.concatenate([around, far, on_surface])
    squared = _check_against_libigl(mesh.vertices, mesh.faces, points)
    assert (squared[-300:] == 0).all()


def test_degenerate_duplicate_and_single_triangles():
    rng = np.random.default_rng(1)
    vertices = rng.normal(size=(40, 3))
    faces = rng.integers(0, 40, (120, 3))
    faces[:10, 1] = faces[:10, 0]  # edges collapsed to points
    faces[10:20] = faces[10:20, [0, 0, 0]]  # triangles collapsed to one vertex
    vertices[faces[20:30, 2]] = 0.5 * (vertices[faces[20:30, 0]] + vertices[faces[20:30, 1]])  # collinear
    faces = np.concatenate([faces, faces[:40]])  # duplicates
    points = rng.normal(size=(3000, 3)) * 2
    _check_against_libigl(vertices, faces, points)
    for count in (1, 2, 3, 5, 9):  # a root leaf, wide nodes with empty slots
        _check_against_libigl(vertices, faces[30:30 + count], points)


@pytest.mark.parametrize("scale, offset", [(1e-3, 1000.0), (1e-22, 0.0), (1e20, 0.0), (1.0, 3e18)])
def test_float32_node_bounds_stay_exact_at_any_scale_and_offset(scale, offset):
    # Node bounds are float32: a millimetre-sized bunny a kilometre from the origin has details
    # far below float32's spacing there (6e-5), so only the rounding allowance keeps pruning
    # exact; tiny meshes underflow the squared bounds to 0 (slow, still exact); beyond 1e18
    # (squares overflow float32) every triangle is tested.
    mesh = g.load(DATA / "bunny.ply")
    unit = (mesh.vertices - mesh.vertices.mean(axis=0)) / np.abs(mesh.vertices).max()
    vertices = unit * scale + offset
    rng = np.random.default_rng(4)
    near = vertices[rng.integers(0, len(vertices), 1500)] + rng.normal(size=(1500, 3)) * 0.01 * scale
    around = offset + rng.uniform(-1.5, 1.5, (1500, 3)) * scale
    _check_against_libigl(vertices, mesh.faces, np.concatenate([near, around]))


def test_bad_faces_raise_before_reaching_c():
    vertices = np.zeros((3, 3))
    with pytest.raises(ValueError, match="F>0"):
        nearest.NearestTree(vertices, np.zeros((0, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="outside"):
        nearest.NearestTree(vertices, np.array([[0, 1, 3]]))
    with pytest.raises(ValueError, match="NaN"):
        nearest.NearestTree(np.array([[0.0, 0, 0], [1, 0, 0], [0, np.nan, 0]]), np.array([[0, 1, 2]]))


def test_threads_and_point_order_do_not_change_answers(monkeypatch):
    mesh = g.load(DATA / "bunny.ply")
    points = np.random.default_rng(2).uniform(mesh.bounds[0], mesh.bounds[1], (50_000, 3))
    tree = nearest.NearestTree(mesh.vertices, mesh.faces)
    monkeypatch.setenv("INRZOO_GEOMETRY_THREADS", "1")
    single = tree.query(points)[0]
    monkeypatch.delenv("INRZOO_GEOMETRY_THREADS")
    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # what Ray sets in a task given 2 CPUs
    assert nearest._threads() == 2
    monkeypatch.setenv("INRZOO_GEOMETRY_THREADS", "3")
    monkeypatch.setattr(nearest, "MIN_POINTS_PER_THREAD", 1000)
    np.testing.assert_array_equal(tree.query(points)[0], single)
    order = np.random.default_rng(3).permutation(len(points))
    np.testing.assert_array_equal(tree.query(points[order])[0], single[order])


def _cube() -> np.ndarray:
    return np.asarray(trimesh.creation.box().faces)


def test_is_closed():
    faces = _cube()
    assert distance.is_closed(faces)
    assert distance.is_closed(faces[:, ::-1])  # flipped as a whole: still a 2-cycle
    assert not distance.is_closed(faces[1:])  # a missing face
    one_flipped = faces.copy()
    one_flipped[0] = one_flipped[0, ::-1]
    assert not distance.is_closed(one_flipped)
    assert not distance.is_closed(np.asarray(g.load(DATA / "elephant-with-holes.off").faces))
    assert distance.is_closed(np.asarray(g.load(DATA / "eight.off").faces))


def test_linked_points_surface_free_balls_overlap_their_anchors():
    rng = np.random.default_rng(4)
    points = np.cumsum(rng.normal(scale=0.01, size=(5000, 3)), axis=0)
    radius = rng.uniform(0, 0.05, len(points))
    anchor = nearest.link_anchors(points, radius, slack=0.0)
    index = np.arange(len(points))
    assert (anchor <= index).all()
    starts = anchor == index
    assert (anchor[anchor] == anchor).all()  # anchors are their own anchors
    # Points on the surface (distance 0) share nothing, even when they coincide.
    assert (nearest.link_anchors(np.zeros((10, 3)), np.zeros(10), slack=0.0) == np.arange(10)).all()
    linked = ~starts
    assert linked.sum() > 1000
    gap = np.linalg.norm(points[linked] - points[anchor[linked]], axis=1)
    assert (gap < radius[linked] + radius[anchor[linked]]).all()
    assert (gap >= np.maximum(radius[linked], radius[anchor[linked]])).any()  # overlap, not only containment


@pytest.mark.parametrize("name", ["bunny.ply", "eight.off"])
def test_sign_shortcut_equals_winding_number_everywhere(name, monkeypatch):
    mesh = g.load(DATA / name)
    assert distance.is_closed(mesh.faces)
    lo, hi = mesh.bounds
    rng = np.random.default_rng(5)
    near = mesh.vertices[rng.integers(0, len(mesh.vertices), 10_000)] + rng.normal(scale=0.01 * (hi - lo).max(), size=(10_000, 3))
    points = np.concatenate([rng.uniform(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo), (20_000, 3)), near])
    sdf = g.signed_distance(mesh, points)
    inside_everywhere = np.abs(g.winding_number(mesh, points)) >= 0.5
    np.testing.assert_array_equal(sdf < 0, inside_everywhere & (sdf != 0))
    calls = []
    index = g.shape_index(mesh)
    original = index.winding
    monkeypatch.setattr(index, "winding", lambda p: calls.append(len(p)) or original(p))
    g.signed_distance(mesh, points)
    assert sum(calls) < 0.7 * len(points)  # the shortcut skipped most winding numbers


def test_libigl_fallback_gives_the_same_fields(monkeypatch):
    mesh = g.load(DATA / "elephant-with-holes.off")
    points = np.random.default_rng(6).uniform(mesh.bounds[0] - 0.1, mesh.bounds[1] + 0.1, (8000, 3))
    compiled_sdf = g.signed_distance(mesh, points)
    compiled_udf, compiled_gradient = g.unsigned_distance(mesh, points, return_gradient=True)
    monkeypatch.setattr(nearest, "available", lambda: False)
    fallback = g.load(DATA / "elephant-with-holes.off")  # a fresh shape: a fresh index
    assert g.shape_index(fallback).nearest is None
    np.testing.assert_array_equal(g.signed_distance(fallback, points), compiled_sdf)
    udf, gradient = g.unsigned_distance(fallback, points, return_gradient=True)
    np.testing.assert_array_equal(udf, compiled_udf)
    np.testing.assert_allclose(gradient, compiled_gradient, atol=1e-6)


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_c_code_is_clean_under_address_and_undefined_behavior_sanitizers(tmp_path):
    binary = tmp_path / "nearest_sanitized"
    sources = [Path(__file__).with_name("nearest_sanitized.c"), SOURCES / "nearest_build.c", SOURCES / "nearest_query.c",
               SOURCES / "morton.c"]
    subprocess.run(["gcc", "-g", "-O1", "-std=c99", "-fsanitize=address,undefined,float-cast-overflow",
                    "-fno-sanitize-recover=all", f"-I{SOURCES}", *map(str, sources), "-lm", "-o", str(binary)],
                   check=True)
    result = subprocess.run([str(binary)], capture_output=True, text=True, env={"ASAN_OPTIONS": "detect_leaks=1"})
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stdout + result.stderr


def test_a_needle_beside_a_patch_does_not_hide_the_nearest_triangle():
    # Zero-area triangles along z give their node a cylinder of radius ~0 around z; a query 5e-9
    # off that axis is where |dx|^2 - h^2 loses every digit (the bound came out 6.45e-9 and the
    # tree answered 6e-9, the patch, instead of 5.29e-9, the needle).
    offset = 1.129e-8
    vertices = np.array([[0, 0, 0], [0, 0, 1], [0, 0, 2], [offset, -1, 1], [offset, 1, 1], [offset, 0, 2],
                         [offset, -1, 1.5], [offset, 1, 1.5], [offset, 0, 1.0]], dtype=float)
    faces = np.array([[0, 1, 2], [0, 2, 1], [1, 0, 2], [2, 1, 0], [3, 4, 5], [3, 5, 4], [6, 7, 8], [6, 8, 7]])
    points = np.array([[offset + 1e-3, 0, 1.5], [5.29e-9, 0, 1.5]])  # the first sets a tight start
    squared = _check_against_libigl(vertices, faces, points)
    np.testing.assert_allclose(np.sqrt(squared[1]), 5.29e-9, rtol=1e-6)


def _pyramid_with_a_sliver(width: float) -> g.Mesh:
    """A closed square pyramid whose base is split by a sliver of the given width."""
    apex, centre = [0.5, 0.5, -1.0], [0.5 + width, 0.5 - width, 0.0]
    vertices = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], centre, apex], dtype=float)
    faces = np.array([[0, 1, 4], [1, 2, 4], [0, 4, 2], [0, 2, 3], [1, 0, 5], [2, 1, 5], [3, 2, 5], [0, 3, 5]])
    return g.Mesh(vertices, faces, source=f"sliver-{width}")


@pytest.mark.parametrize("width", [1e-5, 1e-9])
def test_signs_stay_right_just_off_a_sliver(width):
    mesh = _pyramid_with_a_sliver(width)
    assert distance.is_closed(mesh.faces)
    t = np.random.default_rng(8).uniform(0.2, 0.8, 200)
    along = np.stack([t + 0.25 * width, t - 0.25 * width, 0 * t], axis=1)
    # just above and just below, alternating: each point's ball would reach its neighbour
    points = np.stack([along + [0, 0, 1e-9], along - [0, 0, 2e-8]], axis=1).reshape(-1, 3)
    exact_inside = np.abs(igl.winding_number(mesh.vertices, mesh.faces, points)) >= 0.5
    np.testing.assert_array_equal(g.signed_distance(mesh, points) < 0, exact_inside)
    # The 1e-9 sliver's rounding bound is too large a share of the mesh: no sharing at all there.
    assert g.shape_index(mesh).shares_signs == (width > 1e-6)


def test_a_distance_beyond_float32_shares_no_sign():
    box = trimesh.creation.box()
    mesh = g.Mesh(np.asarray(box.vertices), np.asarray(box.faces), source="box")
    with np.errstate(over="ignore"):
        sdf = g.signed_distance(mesh, np.array([[1e39, 0, 0], [0, 0, 0], [0.1, 0, 0]]))
    np.testing.assert_allclose(sdf[1:], [-0.5, -0.4], rtol=1e-6)
