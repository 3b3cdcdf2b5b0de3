"""Loading every supported format through fsspec, and a clear error for every bad input."""

import io
from pathlib import Path

import fsspec
import numpy as np
import pytest
import trimesh

import inrzoo.geometry as g

DATA = Path(__file__).resolve().parents[1] / "data" / "classic"


def _write(path: Path, data: bytes | str) -> str:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


@pytest.fixture(scope="module")
def box() -> trimesh.Trimesh:
    return trimesh.creation.box(extents=[1.0, 2.0, 3.0])


@pytest.mark.parametrize("fmt", ["stl", "obj", "off", "ply", "glb"])
def test_mesh_formats_round_trip(tmp_path, box, fmt):
    uri = _write(tmp_path / f"box.{fmt}", box.export(file_type=fmt))
    mesh = g.load(uri)
    assert mesh.kind == "mesh" and mesh.source == uri
    assert mesh.vertices.dtype == np.float64 and mesh.faces.dtype == np.int64
    assert mesh.to_trimesh().area == pytest.approx(box.area)
    np.testing.assert_allclose(mesh.bounds, box.bounds)


def test_glb_scene_is_flattened_with_node_transforms(tmp_path, box):
    scene = trimesh.Scene()
    scene.add_geometry(box, node_name="a")
    scene.add_geometry(box, node_name="b", transform=trimesh.transformations.translation_matrix([10, 0, 0]))
    mesh = g.load(_write(tmp_path / "scene.glb", scene.export(file_type="glb")))
    assert len(mesh.faces) == 2 * len(box.faces)
    np.testing.assert_allclose(mesh.bounds, [[-0.5, -1, -1.5], [10.5, 1, 1.5]])


def test_real_meshes_and_memory_filesystem():
    bunny = g.load(DATA / "bunny.ply")
    assert (len(bunny.vertices), len(bunny.faces)) == (1839, 3674)
    with fsspec.open("memory://geometry/open_cube.off", "wb") as handle:
        handle.write((DATA / "open_cube.off").read_bytes())
    cube = g.load("memory://geometry/open_cube.off")
    assert cube.source == "memory://geometry/open_cube.off" and len(cube.faces) == 10


def test_point_cloud_formats(tmp_path):
    rng = np.random.default_rng(0)
    points, normals = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    table = np.hstack([points, normals])
    cases = {
        "a.xyz": "\n".join(" ".join(f"{v:.17g}" for v in row) for row in table),
        "b.npy": table,
        "c.npz": {"points": points, "normals": normals},
        "d.ply": "ply\nformat ascii 1.0\nelement vertex 50\n" + "".join(f"property float {k}\n" for k in ("x", "y", "z", "nx", "ny", "nz"))
        + "end_header\n" + "\n".join(" ".join(f"{v:.9g}" for v in row) for row in table) + "\n",
    }
    for name, content in cases.items():
        path = tmp_path / name
        if name.endswith(".npy"):
            np.save(path, content)
        elif name.endswith(".npz"):
            np.savez(path, **content)
        else:
            path.write_text(content)
        cloud = g.load(str(path))
        assert cloud.kind == "pointcloud", name
        np.testing.assert_allclose(cloud.points, points, rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(cloud.normals, normals, rtol=1e-6, err_msg=name)
    np.save(tmp_path / "bare.npy", points)
    assert g.load(str(tmp_path / "bare.npy")).normals is None


def test_mesh_file_as_point_cloud():
    cloud = g.load(DATA / "cube-ouvert.off", kind="pointcloud")
    assert cloud.kind == "pointcloud" and len(cloud.points) == 8  # the unreferenced 9th vertex is dropped


def _binvox(dims, translate, scale, occupancy_xyz) -> bytes:
    flat = occupancy_xyz.transpose(0, 2, 1).reshape(-1).astype(np.uint8)  # x slowest, then z, then y
    runs, start = [], 0
    while start < len(flat):
        stop = start
        while stop < len(flat) and flat[stop] == flat[start] and stop - start < 255:
            stop += 1
        runs += [flat[start], stop - start]
        start = stop
    header = f"#binvox 1\ndim {dims[0]} {dims[1]} {dims[2]}\ntranslate {translate[0]} {translate[1]} {translate[2]}\nscale {scale}\ndata\n"
    return header.encode() + bytes(runs)


def test_voxel_formats(tmp_path):
    occupancy = np.zeros((4, 4, 4), dtype=bool)
    occupancy[1, 2, 3] = occupancy[0, 0, 1] = occupancy[3, 1, 0] = True
    grid = g.load(_write(tmp_path / "v.binvox", _binvox((4, 4, 4), (-1, -2, -3), 2.0, occupancy)))
    np.testing.assert_array_equal(grid.occupancy, occupancy)
    np.testing.assert_allclose(grid.origin, [-1, -2, -3])
    assert grid.pitch == 0.5
    np.save(tmp_path / "v.npy", occupancy.astype(np.uint8))
    assert g.load(str(tmp_path / "v.npy")).kind == "voxels"
    np.savez(tmp_path / "v.npz", occupancy=occupancy, origin=[1, 2, 3], pitch=0.1)
    voxels = g.load(str(tmp_path / "v.npz"))
    np.testing.assert_array_equal(voxels.occupancy, occupancy)
    assert voxels.pitch == pytest.approx(0.1)
    np.testing.assert_allclose(voxels.bounds, [[1.0, 2.0, 3.0], [1.4, 2.3, 3.4]])


OFF_NAN = "OFF\n3 1 0\n0 0 0\nnan 1 0\n0 1 0\n3 0 1 2\n"
OFF_INF = "OFF\n3 1 0\n0 0 0\ninf 1 0\n0 1 0\n3 0 1 2\n"
OFF_FLAT = "OFF\n3 1 0\n1 1 1\n1 1 1\n1 1 1\n3 0 1 2\n"
OFF_NO_FACES = "OFF\n3 0 0\n0 0 0\n1 0 0\n0 1 0\n"


@pytest.mark.parametrize(
    "name, content, kwargs, reason",
    [
        ("shape.foo", "1 2 3", {}, "unknown format 'foo'"),
        ("noext", "1 2 3", {}, "unknown format ''"),
        ("empty.stl", "", {}, "empty file"),
        ("empty.xyz", "# only a comment\n", {}, "empty"),
        ("garbage.glb", "this is not a glTF binary", {}, "cannot parse as GLB"),
        ("garbage.xyz", "1 2 three\n", {}, "cannot parse as XYZ"),
        ("garbage.npy", "not numpy", {}, "cannot parse as NPY"),
        ("garbage.binvox", "#binvox 1\ndim 2 2 2\ndata\n\x01\x03", {}, "holds 3 voxels"),
        ("nan.off", OFF_NAN, {}, "NaN or infinite"),
        ("inf.off", OFF_INF, {}, "NaN or infinite"),
        ("flat.off", OFF_FLAT, {}, "zero-extent bounding box"),
        ("nofaces.off", OFF_NO_FACES, {"kind": "mesh"}, "no faces"),
        ("points.xyz", "0 0 0\n1 1 1\n", {"kind": "mesh"}, "no faces"),
        ("points.xyz", "0 0 0\n1 1 1\n", {"kind": "curve"}, "unknown kind"),
        ("one.xyz", "0 0 0\n", {}, "zero-extent bounding box"),
        ("cols.xyz", "0 0 0 1\n1 1 1 1\n", {}, r"\[N, 3\], \[N, 6\] or \[N, 7\]"),
    ],
)
def test_bad_inputs_name_the_file_and_the_reason(tmp_path, name, content, kwargs, reason):
    uri = _write(tmp_path / name, content)
    with pytest.raises(g.GeometryError, match=reason) as caught:
        g.load(uri, **kwargs)
    assert uri in str(caught.value)


def test_missing_file_and_too_many_faces(tmp_path, box):
    missing = str(tmp_path / "missing.obj")
    with pytest.raises(g.GeometryError, match="file not found") as caught:
        g.load(missing)
    assert missing in str(caught.value)
    for fmt in ("stl", "ply", "off", "obj"):
        uri = _write(tmp_path / f"box.{fmt}", box.export(file_type=fmt))
        with pytest.raises(g.GeometryError, match=f"12 faces exceed max_faces=11"):
            g.load(uri, max_faces=11)
        assert len(g.load(uri, max_faces=12).faces) == 12


def test_constructors_validate_arrays():
    with pytest.raises(g.GeometryError, match=r"mine: face indices out of range"):
        g.Mesh(np.eye(3), [[0, 1, 3]], source="mine")
    with pytest.raises(g.GeometryError, match=r"mine: no faces"):
        g.Mesh(np.eye(3), np.zeros((0, 3)), source="mine")
    with pytest.raises(g.GeometryError, match="normals"):
        g.PointCloud(np.eye(3), np.ones((2, 3)), source="mine")
    with pytest.raises(g.GeometryError, match="no occupied voxel"):
        g.VoxelGrid(np.zeros((2, 2, 2)), np.zeros(3), 1.0, source="mine")
    with pytest.raises(g.GeometryError, match="pitch"):
        g.VoxelGrid(np.ones((2, 2, 2)), np.zeros(3), 0.0, source="mine")


def test_off_polygons_are_fan_triangulated_and_stl_corners_shared(tmp_path, box):
    quad_cube = "OFF\n# a cube of quads\n8 6 0\n" + "".join(f"{x} {y} {z} 255 0 0\n" for x in (0, 1) for y in (0, 1) for z in (0, 1)) + \
        "4 0 1 3 2\n4 4 6 7 5\n4 0 4 5 1\n4 2 3 7 6\n4 0 2 6 4\n4 1 5 7 3 0.5 0.5 0.5\n"
    mesh = g.load(_write(tmp_path / "quads.off", quad_cube))
    assert len(mesh.faces) == 12 and mesh.to_trimesh().is_watertight
    assert abs(mesh.to_trimesh().volume) == pytest.approx(1.0)
    assert np.abs(g.winding_number(mesh, [[0.5, 0.5, 0.5]])) == pytest.approx(1.0)
    with pytest.raises(g.GeometryError, match="12 faces exceed max_faces=11"):
        g.load(_write(tmp_path / "quads6.off", quad_cube), max_faces=11)
    with pytest.raises(g.GeometryError, match="truncated OFF"):
        g.load(_write(tmp_path / "short.off", "OFF\n8 6 0\n0 0 0\n"))
    stl = g.load(_write(tmp_path / "box.stl", box.export(file_type="stl")))
    assert len(stl.vertices) == 8 and stl.to_trimesh().is_watertight


def test_parse_bytes_already_read():
    data = (DATA / "eight.off").read_bytes()
    mesh = g.parse(data, "s3://bucket/eight.off")
    assert mesh.source == "s3://bucket/eight.off" and len(mesh.faces) == 634
    with pytest.raises(g.GeometryError, match="s3://bucket/eight.off: empty file"):
        g.parse(b"", "s3://bucket/eight.off")
    with pytest.raises(g.GeometryError, match="unknown format 'dat'"):
        g.parse(data, "eight.dat")


def test_geometry_error_message_forms():
    error = g.GeometryError("s3://b/x.stl", "empty file")
    assert str(error) == "s3://b/x.stl: empty file" and error.source == "s3://b/x.stl" and error.reason == "empty file"
    assert isinstance(error, ValueError)
    assert str(g.GeometryError("s3://b/x.stl: broken")) == "s3://b/x.stl: broken"


def test_binary_point_cloud_ply_written_by_trimesh_loads(tmp_path):
    # Binary PLY vertex data reaches us as a structured array; looking up normals must not compare values.
    points = np.random.default_rng(0).uniform(-1, 1, (50, 3))
    trimesh.PointCloud(points).export(tmp_path / "cloud.ply")
    cloud = g.load(str(tmp_path / "cloud.ply"))
    assert cloud.kind == "pointcloud" and cloud.normals is None
    np.testing.assert_allclose(cloud.points, points, atol=1e-6)


def test_shapenetpart_text_rows_load_as_point_clouds_with_normals(tmp_path):
    rows = "0 0 0 0 0 1 2\n1 0 0 0 0 1 2\n0 1 0 1 0 0 3\n0 0 1 1 0 0 3\n"
    cloud = g.load(_write(tmp_path / "1a2b.txt", rows))
    assert cloud.kind == "pointcloud" and cloud.points.shape == (4, 3)
    np.testing.assert_array_equal(cloud.normals[2], [1, 0, 0])
