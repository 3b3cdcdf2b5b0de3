"""Load any supported geometry file from an fsspec URI (or bytes already read) into a `Shape`.

Meshes: STL, OBJ, OFF, PLY, GLB (scenes flattened with their node transforms), VRML 2.0 (.wrl).
Point clouds: PLY (no faces), XYZ, NPY, NPZ, with optional normals.
Voxel grids: binvox, NPY/NPZ (3D arrays).
"""

from __future__ import annotations

import io
import re

import fsspec
import numpy as np

from . import formats, vrml
from .shapes import GeometryError, Mesh, PointCloud, Shape

TRIMESH_FORMATS = ("stl", "obj", "ply", "glb")
OWN_PARSERS = {
    "off": formats.parse_off,
    "xyz": formats.parse_xyz,
    "txt": formats.parse_xyz,  # ShapeNetPart point tables
    "npy": formats.parse_npy,
    "npz": formats.parse_npz,
    "binvox": formats.parse_binvox,
    "wrl": vrml.parse_vrml,  # VRML 2.0 (KiCad 3D packages)
}
KINDS = ("mesh", "pointcloud", "voxels")
HEADER_CHECKS = {"ply": formats.check_ply_counts, "stl": formats.check_stl_counts}


def file_format(uri: str) -> str:
    """Lower-case extension of the URI's last path component (query strings ignored)."""
    name = uri.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _read_bytes(uri: str, storage_options: dict) -> bytes:
    try:
        with fsspec.open(uri, "rb", **storage_options) as handle:
            data = handle.read()
    except FileNotFoundError:
        raise GeometryError(uri, "file not found") from None
    except (OSError, ValueError, ImportError) as error:
        raise GeometryError(uri, f"unreadable: {error}") from None
    if len(data) == 0:
        raise GeometryError(uri, "empty file")
    return data


def _declared_faces(data: bytes, fmt: str) -> int | None:
    """Face count announced by the header, to refuse huge files before parsing them."""
    head = data[:4096]
    if fmt == "stl" and not head.lstrip().lower().startswith(b"solid") and len(data) >= 84:
        return int(np.frombuffer(data[80:84], dtype="<u4")[0])
    if fmt == "ply":
        match = re.search(rb"element\s+face\s+(\d+)", head)
        return int(match.group(1)) if match else None
    if fmt == "off":
        # "OFF" then "V F E"; comments start with '#'; the counts may share the first line.
        tokens = re.sub(rb"#[^\n]*", b"", head).split()
        if tokens and tokens[0].upper().endswith(b"OFF"):
            tokens = tokens[1:]
        try:
            return int(tokens[1])
        except (IndexError, ValueError):
            return None
    return None


def _ply_normals(cloud, count: int) -> np.ndarray | None:
    """trimesh keeps PLY vertex properties in metadata; pick nx, ny, nz when present."""
    raw = cloud.metadata.get("_ply_raw", {}).get("vertex", {}).get("data", {})
    # A structured numpy array (binary PLY) names its fields in dtype.names; `in` on it compares values.
    names = raw.dtype.names or () if isinstance(raw, np.ndarray) else tuple(raw)
    if all(key in names for key in ("nx", "ny", "nz")):
        normals = np.column_stack([np.asarray(raw[key], dtype=np.float64).reshape(-1) for key in ("nx", "ny", "nz")])
        return normals if len(normals) == count else None
    return None


def _parse_with_trimesh(data: bytes, fmt: str, uri: str) -> Shape:
    import trimesh

    try:
        loaded = trimesh.load(io.BytesIO(data), file_type=fmt, process=False)
    except Exception as error:  # trimesh raises many types for malformed input
        raise GeometryError(uri, f"cannot parse as {fmt.upper()}: {type(error).__name__}: {error}") from None
    parts = loaded.dump(concatenate=False) if isinstance(loaded, trimesh.Scene) else [loaded]
    meshes = [p for p in parts if isinstance(p, trimesh.Trimesh) and len(p.faces)]
    clouds = [p for p in parts if isinstance(p, trimesh.PointCloud) or (isinstance(p, trimesh.Trimesh) and not len(p.faces))]
    if meshes:
        vertices, faces, offset = [], [], 0
        for mesh in meshes:
            vertices.append(np.asarray(mesh.vertices, dtype=np.float64))
            faces.append(np.asarray(mesh.faces, dtype=np.int64) + offset)
            offset += len(mesh.vertices)
        vertices, faces = np.concatenate(vertices), np.concatenate(faces)
        if fmt == "stl":  # STL stores a triangle soup: share the corners that coincide exactly
            vertices, inverse = np.unique(vertices, axis=0, return_inverse=True)
            faces = inverse.reshape(-1)[faces]
        return Mesh(vertices, faces, source=uri)
    if clouds:
        points = np.concatenate([np.asarray(c.vertices, dtype=np.float64).reshape(-1, 3) for c in clouds])
        normals = _ply_normals(clouds[0], len(points)) if fmt == "ply" and len(clouds) == 1 else None
        return PointCloud(points, normals, source=uri)
    raise GeometryError(uri, "empty: no vertices or faces")


def _as_kind(shape: Shape, kind: str | None, uri: str) -> Shape:
    if kind is None or shape.kind == kind:
        return shape
    if kind == "pointcloud" and isinstance(shape, Mesh):
        return PointCloud(shape.used_vertices(), None, source=uri)
    if kind == "mesh" and isinstance(shape, PointCloud):
        raise GeometryError(uri, "no faces: file holds a point cloud, kind='mesh' was asked")
    raise GeometryError(uri, f"file holds {shape.kind}, kind={kind!r} was asked")


def load(uri: str, *, kind: str | None = None, max_faces: int = 5_000_000, **storage_options) -> Shape:
    """Read a mesh, point cloud or voxel grid from any fsspec URI (local path, s3://, memory://...).

    kind forces the expected shape kind ("mesh", "pointcloud", "voxels"); a mesh file asked
    as "pointcloud" gives its referenced vertices. Raises GeometryError naming the URI.
    """
    uri = str(uri)
    _check_kind_and_format(uri, kind)
    return parse(_read_bytes(uri, storage_options), uri, kind=kind, max_faces=max_faces)


def parse(data: bytes, uri: str, *, kind: str | None = None, max_faces: int = 5_000_000) -> Shape:
    """`load` for bytes already read (the format comes from the extension of `uri`); callers
    that retry reads against a flaky store read once themselves and parse here."""
    fmt = _check_kind_and_format(uri, kind)
    if not data:
        raise GeometryError(uri, "empty file")
    declared = _declared_faces(data, fmt)
    if declared is not None and declared > max_faces:
        raise GeometryError(uri, f"{declared} faces exceed max_faces={max_faces}")
    if fmt in HEADER_CHECKS:  # counts a header declares must fit in the file before trimesh trusts them
        HEADER_CHECKS[fmt](data, uri)
    shape = OWN_PARSERS[fmt](data, uri) if fmt in OWN_PARSERS else _parse_with_trimesh(data, fmt, uri)
    if isinstance(shape, Mesh) and len(shape.faces) > max_faces:  # polygons triangulated, OBJ, GLB
        raise GeometryError(uri, f"{len(shape.faces)} faces exceed max_faces={max_faces}")
    return _as_kind(shape, kind, uri)


def _check_kind_and_format(uri: str, kind: str | None) -> str:
    if kind is not None and kind not in KINDS:
        raise GeometryError(uri, f"unknown kind {kind!r}; expected one of {KINDS}")
    fmt = file_format(uri)
    if fmt not in TRIMESH_FORMATS and fmt not in OWN_PARSERS:
        raise GeometryError(uri, f"unknown format {fmt!r}; supported: {sorted(TRIMESH_FORMATS + tuple(OWN_PARSERS))}")
    return fmt


# --- shapes from whatever the caller holds -----------------------------------------------------------
_CONVERTED: dict[tuple[int, int], Shape] = {}  # (id, content hash) of a trimesh object -> its Shape


def is_trimesh(value: object) -> bool:
    """True for trimesh's Trimesh, PointCloud and Scene (checked without importing trimesh)."""
    return type(value).__module__.split(".", 1)[0] == "trimesh"


def as_shape(value: object, *, kind: str | None = None) -> Shape:
    """A Shape from a Shape, a trimesh.Trimesh / PointCloud / Scene, or a path or URI (loaded).

    A trimesh object converts once per content (its distance trees are then built once too)."""
    import os

    if isinstance(value, (Mesh, PointCloud)) or getattr(value, "kind", None) == "voxels":
        return _as_kind(value, kind, getattr(value, "source", "<shape>"))
    if isinstance(value, (str, os.PathLike)):
        return load(os.fspath(value), kind=kind)
    if not is_trimesh(value):
        raise TypeError(f"not a shape: {type(value).__name__} (expected an inrzoo Mesh, PointCloud or VoxelGrid, "
                        "a trimesh.Trimesh, PointCloud or Scene, or a path)")
    key = (id(value), hash(value))
    if key not in _CONVERTED:
        import weakref

        _CONVERTED[key] = _from_trimesh(value)
        weakref.finalize(value, _CONVERTED.pop, key, None)
    return _as_kind(_CONVERTED[key], kind, _CONVERTED[key].source)


def _from_trimesh(value) -> Shape:
    import trimesh

    source = str(value.metadata.get("file_path") or value.metadata.get("file_name") or f"<{type(value).__name__}>")
    if isinstance(value, trimesh.Scene):
        value = value.to_mesh()  # node transforms applied, geometries joined
    vertices = np.asarray(value.vertices, dtype=np.float64)
    if isinstance(value, trimesh.Trimesh) and len(value.faces):
        return Mesh(vertices, np.asarray(value.faces, dtype=np.int64), source=source)
    return PointCloud(vertices, None, source=source)
