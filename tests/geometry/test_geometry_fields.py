"""Ground-truth fields against exact analytic distances and winding-number / ray-parity references."""

from pathlib import Path

import igl
import numpy as np
import pytest
import trimesh
from scipy.spatial import cKDTree

import inrzoo.geometry as g

DATA = Path(__file__).resolve().parents[1] / "data" / "classic"


def _mesh(tm: trimesh.Trimesh, name: str) -> g.Mesh:
    return g.Mesh(np.asarray(tm.vertices), np.asarray(tm.faces), source=name)


def sphere_sdf(p, radius=0.8):
    return np.linalg.norm(p, axis=1) - radius


def box_sdf(p, half):
    q = np.abs(p) - half
    return np.linalg.norm(np.maximum(q, 0), axis=1) + np.minimum(q.max(axis=1), 0)


def torus_sdf(p, major, minor):
    ring = np.linalg.norm(p[:, :2], axis=1) - major
    return np.hypot(ring, p[:, 2]) - minor


@pytest.fixture(scope="module")
def points():
    return np.random.default_rng(0).uniform(-1.2, 1.2, (20_000, 3))


def test_sphere_signed_distance_matches_analytic(points):
    mesh = _mesh(trimesh.creation.icosphere(subdivisions=5, radius=0.8), "sphere")
    sdf = g.signed_distance(mesh, points)
    assert sdf.dtype == np.float32 and sdf.shape == (len(points),)
    # The tessellation lies inside the true sphere by at most its chord error (~6e-4).
    np.testing.assert_allclose(sdf, sphere_sdf(points), atol=1.5e-3)


def test_box_signed_distance_is_exact(points):
    half = np.array([0.7, 0.4, 0.5])
    mesh = _mesh(trimesh.creation.box(extents=2 * half), "box")
    np.testing.assert_allclose(g.signed_distance(mesh, points), box_sdf(points, half), atol=1e-5)
    np.testing.assert_allclose(g.unsigned_distance(mesh, points), np.abs(box_sdf(points, half)), atol=1e-5)


def test_torus_signed_distance_and_occupancy(points):
    tm = trimesh.creation.torus(major_radius=0.7, minor_radius=0.25, major_sections=256, minor_sections=128)
    mesh = _mesh(tm, "torus")
    exact = torus_sdf(points, 0.7, 0.25)
    np.testing.assert_allclose(g.signed_distance(mesh, points), exact, atol=1e-3)
    away = np.abs(exact) > 2e-3
    np.testing.assert_array_equal(g.occupancy(mesh, points)[away], exact[away] < 0)
    np.testing.assert_array_equal(g.ground_truth(mesh, points, "occupancy")[away], (exact[away] < 0).astype(np.float32))


def test_udf_gradient_points_away_from_closest_point(points):
    half = np.array([0.5, 0.5, 0.5])
    mesh = _mesh(trimesh.creation.box(extents=2 * half), "box")
    udf, grad = g.unsigned_distance(mesh, points, return_gradient=True)
    assert grad.shape == (len(points), 3) and grad.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(grad, axis=1), 1.0, atol=1e-5)
    # Stepping back along the gradient by the distance lands on the surface.
    projected = points - udf[:, None] * grad
    np.testing.assert_allclose(g.unsigned_distance(mesh, projected), 0.0, atol=1e-5)
    # Central differences agree with the analytic gradient away from the medial axis.
    h, probe = 1e-4, points[np.abs(box_sdf(points, half)) > 0.05][:200]
    _, grad_probe = g.unsigned_distance(mesh, probe, return_gradient=True)
    numeric = np.stack([(g.unsigned_distance(mesh, probe + h * e) - g.unsigned_distance(mesh, probe - h * e)) / (2 * h)
                        for e in np.eye(3)], axis=1)
    close = np.linalg.norm(numeric - grad_probe, axis=1) < 1e-2
    assert close.mean() > 0.97


def test_point_cloud_udf_and_gradient():
    rng = np.random.default_rng(1)
    directions = rng.normal(size=(20_000, 3))
    cloud = g.PointCloud(directions / np.linalg.norm(directions, axis=1, keepdims=True), source="sphere-cloud")
    queries = rng.uniform(-1, 1, (1000, 3))
    udf, grad = g.unsigned_distance(cloud, queries, return_gradient=True)
    nearest, _ = cKDTree(cloud.points).query(queries)
    np.testing.assert_allclose(udf, nearest, rtol=1e-6)
    # Dense samples of the unit sphere: the UDF approaches | |p| - 1 |.
    np.testing.assert_allclose(udf, np.abs(np.linalg.norm(queries, axis=1) - 1), atol=0.03)
    np.testing.assert_allclose(g.ground_truth(cloud, queries, "udf"), udf)
    on_surface = g.unsigned_distance(cloud, cloud.points[:10], return_gradient=True)[1]
    np.testing.assert_array_equal(on_surface, 0.0)


def test_voxel_occupancy_lookup():
    grid = np.zeros((4, 4, 4), dtype=bool)
    grid[1:3, 1:3, 1:3] = True
    voxels = g.VoxelGrid(grid, origin=[-1.0, -1.0, -1.0], pitch=0.5, source="cube-voxels")
    queries = np.array([[0.0, 0.0, 0.0], [-0.25, 0.25, 0.1], [-0.75, 0, 0], [0.6, 0, 0], [5.0, 0, 0], [-1.5, 0, 0]])
    np.testing.assert_array_equal(g.occupancy(voxels, queries), [True, True, False, False, False, False])


def test_fields_a_shape_cannot_give_raise():
    cloud = g.PointCloud(np.random.default_rng(0).normal(size=(10, 3)), source="scan.xyz")
    with pytest.raises(g.GeometryError, match=r"scan\.xyz.*needs a mesh"):
        g.ground_truth(cloud, np.zeros((1, 3)), "sdf")
    with pytest.raises(g.GeometryError, match="occupancy needs"):
        g.ground_truth(cloud, np.zeros((1, 3)), "occupancy")
    voxels = g.VoxelGrid(np.ones((2, 2, 2)), np.zeros(3), 1.0, source="v.binvox")
    with pytest.raises(g.GeometryError, match="unsigned distance needs"):
        g.ground_truth(voxels, np.zeros((1, 3)), "udf")
    with pytest.raises(g.GeometryError, match="unknown field"):
        g.ground_truth(voxels, np.zeros((1, 3)), "normals")
    with pytest.raises(g.GeometryError, match=r"\[N, 3\]"):
        g.signed_distance(g.load(DATA / "open_cube.off"), np.zeros((4, 2)))


def ray_parity(mesh: g.Mesh, queries: np.ndarray) -> np.ndarray:
    """Inside by the parity of ray crossings (an odd direction avoids edge hits)."""
    tree = igl.AABB()
    tree.init(mesh.vertices, mesh.faces)
    direction = np.tile([[0.36, 0.48, 0.8]], (len(queries), 1))
    return np.array([len(hits) % 2 == 1 for hits in tree.intersect_ray(mesh.vertices, mesh.faces, queries, direction)])


def brute_force_distance(mesh: g.Mesh, queries: np.ndarray) -> np.ndarray:
    """Distance to every triangle (trimesh's closest-point code), minimum over triangles."""
    triangles = mesh.vertices[mesh.faces]
    best = np.full(len(queries), np.inf)
    for triangle in triangles:
        closest = trimesh.triangles.closest_point(np.repeat(triangle[None], len(queries), axis=0), queries)
        best = np.minimum(best, np.linalg.norm(closest - queries, axis=1))
    return best


def _boundary_distance(mesh: g.Mesh, queries: np.ndarray) -> np.ndarray:
    """Distance from each query to the mesh's open boundary (edges used by one face)."""
    tm = mesh.to_trimesh()
    edges = tm.edges_sorted[trimesh.grouping.group_rows(tm.edges_sorted, require_count=1)]
    t = np.linspace(0, 1, 16)[None, :, None]
    samples = mesh.vertices[edges[:, 0]][:, None] * (1 - t) + mesh.vertices[edges[:, 1]][:, None] * t
    return cKDTree(samples.reshape(-1, 3)).query(queries)[0]


def test_elephant_with_holes_signs_match_closed_elephant_away_from_holes():
    holes = g.load(DATA / "elephant-with-holes.off")
    closed = g.load(DATA / "elephant.off")
    queries = np.random.default_rng(2).uniform(holes.bounds[0] - 0.05, holes.bounds[1] + 0.05, (20_000, 3))
    parity = ray_parity(closed, queries)  # the watertight original
    away = _boundary_distance(holes, queries) > 0.05
    assert away.sum() > 15_000
    sdf = g.signed_distance(holes, queries)
    np.testing.assert_array_equal((sdf < 0)[away], parity[away])
    # Magnitudes are exact distances to the holed surface.
    probe = slice(0, 200)
    np.testing.assert_allclose(np.abs(sdf[probe]), brute_force_distance(holes, queries[probe]), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name, low, high", [("open_cube.off", 0.0, 100.0), ("cube-ouvert.off", -1.0, 1.0)])
def test_open_cubes_inside_away_from_the_missing_face(name, low, high):
    mesh = g.load(DATA / name)
    size = high - low
    queries = np.random.default_rng(3).uniform(low - 0.5 * size, high + 0.5 * size, (20_000, 3))
    inside_box = ((queries > low) & (queries < high)).all(axis=1)
    away = _boundary_distance(mesh, queries) > 0.3 * size
    sdf = g.signed_distance(mesh, queries)
    np.testing.assert_array_equal((sdf < 0)[away], inside_box[away])
    np.testing.assert_allclose(np.abs(sdf), brute_force_distance(mesh, queries), rtol=1e-5, atol=1e-9 * size)


def test_fast_winding_number_agrees_with_dense_exact_reference():
    for name in ("bunny.ply", "elephant-with-holes.off", "eight.off"):
        mesh = g.load(DATA / name)
        lo, hi = mesh.bounds
        queries = np.random.default_rng(4).uniform(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo), (5000, 3))
        exact = g.winding_number(mesh, queries, exact=True)
        fast = g.winding_number(mesh, queries)
        assert np.abs(fast - exact).max() < 0.02, name
        clear = np.abs(np.abs(exact) - 0.5) > 0.05
        np.testing.assert_array_equal(g.occupancy(mesh, queries)[clear], (np.abs(exact) >= 0.5)[clear])


def test_closed_meshes_match_ray_parity():
    for name in ("bunny.ply", "eight.off"):
        mesh = g.load(DATA / name)
        lo, hi = mesh.bounds
        queries = np.random.default_rng(5).uniform(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo), (10_000, 3))
        sdf = g.signed_distance(mesh, queries)
        clear = np.abs(sdf) > 1e-3 * np.linalg.norm(hi - lo)
        np.testing.assert_array_equal((sdf < 0)[clear], ray_parity(mesh, queries)[clear])


def test_blocks_give_the_same_answer(monkeypatch):
    import inrzoo.geometry.distance as distance

    mesh = g.load(DATA / "bunny.ply")
    queries = np.random.default_rng(6).uniform(mesh.bounds[0], mesh.bounds[1], (9001, 3))
    whole = g.signed_distance(mesh, queries)
    udf, grad = g.unsigned_distance(mesh, queries, return_gradient=True)
    monkeypatch.setattr(distance, "BLOCK_SIZE", 1000)
    np.testing.assert_array_equal(g.signed_distance(mesh, queries), whole)
    np.testing.assert_array_equal(g.unsigned_distance(mesh, queries, return_gradient=True)[1], grad)
    # Answers come back in input order, small calls (no reordering) agree with large ones.
    np.testing.assert_array_equal(g.signed_distance(mesh, queries[:100]), whole[:100])
    np.testing.assert_array_equal(np.abs(whole), udf)
    float32 = queries.astype(np.float32)
    np.testing.assert_array_equal(g.signed_distance(mesh, float32), g.signed_distance(mesh, float32.astype(np.float64)))


def test_spatial_order_is_a_coherent_permutation():
    from inrzoo.geometry.blocks import spatial_order

    points = np.random.default_rng(7).uniform(-1, 1, (50_000, 3)).astype(np.float32)
    order = spatial_order(points)
    np.testing.assert_array_equal(np.sort(order), np.arange(len(points)))
    step = np.linalg.norm(np.diff(points[order], axis=0), axis=1).mean()
    assert step < 0.1 * np.linalg.norm(np.diff(points, axis=0), axis=1).mean()


@pytest.mark.skipif(not g.nearest.available(), reason="needs the compiled library")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_morton_order_equals_the_numpy_one(dtype, monkeypatch):
    from inrzoo.geometry import blocks

    rng = np.random.default_rng(3)
    points = rng.normal(size=(30_000, 3)).astype(dtype)
    points[10_000:12_000] = points[:2_000]  # ties: the stable order keeps them in input order
    points[500] = [1e3, -1e3, 0]  # one far point squeezes the rest into few cells
    compiled = blocks.spatial_order(points)
    monkeypatch.setattr(blocks.nearest, "morton_order", lambda *args: None)
    np.testing.assert_array_equal(compiled, blocks.spatial_order(points))
    np.testing.assert_array_equal(blocks.spatial_order(points[:1]), [0])


def test_mesh_index_is_cached_and_shapes_pickle():
    import pickle

    mesh = g.load(DATA / "eight.off")
    assert g.shape_index(mesh) is g.shape_index(mesh)
    copy = pickle.loads(pickle.dumps(mesh))
    np.testing.assert_array_equal(copy.faces, mesh.faces)
    assert copy.kind == "mesh" and "eight.off" in repr(copy)


def test_non_finite_query_points_raise():
    mesh = g.load(DATA / "eight.off")
    with pytest.raises(g.GeometryError, match="eight.off: query points contain NaN"):
        g.signed_distance(mesh, np.array([[0.0, np.nan, 0.0]]))
