"""Parsers of our own: OFF (polygons fan-triangulated; trimesh's OFF reader fails on
polygon faces under numpy 2), XYZ, NPY, NPZ, binvox; and checks of the counts that PLY and
binary STL headers declare against the bytes that follow, before trimesh parses them.

Each parser takes the file's bytes and returns a Shape; `GeometryError` names the URI.
The other mesh formats (and PLY point clouds) go through trimesh in `io.py`. A count in a
header is never trusted to size memory: what it claims must fit in the file.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile

import numpy as np

from .shapes import GeometryError, Mesh, PointCloud, Shape, VoxelGrid


def _cloud_from_columns(table: np.ndarray, uri: str) -> PointCloud:
    """[N,3] points, [N,6] points and normals, or [N,7] ShapeNetPart rows (points, normals, part
    label; the labels are read with inrzoo.collections.read_part_points, not here)."""
    if table.ndim != 2 or table.shape[1] not in (3, 6, 7):
        raise GeometryError(uri, f"expected an [N, 3], [N, 6] or [N, 7] table of points (normals, part), "
                                 f"got {list(table.shape)}")
    normals = table[:, 3:6] if table.shape[1] >= 6 else None
    return PointCloud(table[:, :3], normals, source=uri)


def _array_shape(array: np.ndarray, uri: str) -> Shape:
    if array.ndim == 3:
        # A bare 3D array carries no placement: voxels in index units from the origin.
        return VoxelGrid(array, np.zeros(3), 1.0, source=uri)
    if not np.issubdtype(array.dtype, np.number):
        raise GeometryError(uri, f"unsupported array dtype {array.dtype}")
    return _cloud_from_columns(array.astype(np.float64), uri)


def _table(lines: list[str], columns: int, dtype) -> np.ndarray | None:
    """Fast path: every line has exactly `columns` numbers (else None)."""
    tokens = " ".join(lines).split()
    if len(tokens) != columns * len(lines):
        return None
    return np.array(tokens, dtype=dtype).reshape(-1, columns)


def _fan(polygon: list[str]) -> list[tuple[str, str, str]]:
    return [(polygon[0], polygon[i], polygon[i + 1]) for i in range(1, len(polygon) - 1)]


def parse_off(data: bytes, uri: str) -> Shape:
    """OFF/COFF/NOFF text: header, V F E counts, V vertex lines (extra columns ignored),
    F face lines "n i1 .. in [colour]" (polygons fan-triangulated); '#' starts a comment."""
    text = data.decode("utf-8", errors="replace")
    lines = [stripped for line in text.splitlines() if (stripped := line.split("#", 1)[0].strip())]
    if not lines or not lines[0].split()[0].upper().endswith("OFF"):
        raise GeometryError(uri, "cannot parse as OFF: missing 'OFF' header")
    if "BINARY" in lines[0].upper():
        raise GeometryError(uri, "cannot parse as OFF: binary OFF is not supported")
    counts, start = lines[0].split()[1:], 1
    if not counts:
        counts, start = (lines[1].split() if len(lines) > 1 else []), 2
    try:
        n_vertices, n_faces = int(counts[0]), int(counts[1])
        vertex_lines = lines[start:start + n_vertices]
        face_lines = lines[start + n_vertices:start + n_vertices + n_faces]
        if len(vertex_lines) < n_vertices or len(face_lines) < n_faces:
            raise GeometryError(uri, f"truncated OFF: header announces {n_vertices} vertices and {n_faces} faces")
        vertices = _table(vertex_lines, 3, np.float64)
        if vertices is None:  # extra columns (colours, normals) on some lines
            vertices = np.array([line.split()[:3] for line in vertex_lines], dtype=np.float64)
        faces = _table(face_lines, 4, np.int64)
        if faces is not None and (faces[:, 0] == 3).all():
            faces = faces[:, 1:]
        else:  # polygons or colour columns: line by line
            triangles = []
            for line in face_lines:
                tokens = line.split()
                triangles += _fan(tokens[1:1 + int(tokens[0])])
            faces = np.array(triangles, dtype=np.int64).reshape(-1, 3)
    except (IndexError, ValueError) as error:
        raise GeometryError(uri, f"cannot parse as OFF: {error}") from None
    if n_vertices == 0:
        raise GeometryError(uri, "empty: no vertices")
    if len(faces) == 0:
        return PointCloud(vertices, None, source=uri)
    return Mesh(vertices, faces, source=uri)


def parse_xyz(data: bytes, uri: str) -> PointCloud:
    text = data.decode("utf-8", errors="replace").replace(",", " ")
    try:
        with warnings.catch_warnings():  # an empty file is reported below, not warned about
            warnings.simplefilter("ignore", UserWarning)
            table = np.loadtxt(io.StringIO(text), dtype=np.float64, ndmin=2, comments="#")
    except ValueError as error:
        raise GeometryError(uri, f"cannot parse as XYZ text: {error}") from None
    if table.size == 0:
        raise GeometryError(uri, "empty: no points")
    return _cloud_from_columns(table, uri)


MAX_VOXELS = 1024**3  # chosen: a grid this size is a gigabyte of booleans
MAX_MEMBER_BYTES = 1 << 30  # chosen: an NPZ member inflates to at most 1 GiB (30M points in float64)
_PLY_SIZES = {"char": 1, "uchar": 1, "int8": 1, "uint8": 1, "short": 2, "ushort": 2, "int16": 2, "uint16": 2,
              "int": 4, "uint": 4, "int32": 4, "uint32": 4, "float": 4, "float32": 4, "double": 8, "float64": 8}


def check_ply_counts(data: bytes, uri: str) -> None:
    """The element counts of a PLY header must fit in the bytes after it: binary records have
    fixed sizes (a list counts at least its length field), ASCII values at least 2 bytes each."""
    end = data.find(b"end_header")
    if not data.startswith(b"ply") or end < 0:
        raise GeometryError(uri, "not a PLY file (no 'ply' ... 'end_header' header)")
    body = len(data) - (data.find(b"\n", end) + 1 if data.find(b"\n", end) >= 0 else len(data))
    lines = data[:end].decode("ascii", errors="replace").splitlines()
    binary = any(line.startswith("format binary") for line in lines)
    needed, elements = 0, []
    for line in lines:
        fields = line.split()
        if len(fields) == 3 and fields[0] == "element":
            if not fields[2].isdigit():
                raise GeometryError(uri, f"PLY header: element count {fields[2]!r} is not a number")
            elements.append([fields[1], int(fields[2]), 0])
        elif fields[:1] == ["property"] and elements:
            if fields[1:2] == ["list"] and len(fields) >= 5:  # counted by its length field only
                elements[-1][2] += _PLY_SIZES.get(fields[2], 1) if binary else 2
            elif len(fields) >= 3:
                elements[-1][2] += _PLY_SIZES.get(fields[1], 1) if binary else 2
    for name, count, record in elements:
        needed += count * max(record, 1)
    if needed > body:
        counts = ", ".join(f"{count} {name}" for name, count, _ in elements)
        raise GeometryError(uri, f"PLY header declares {counts}, which need at least {needed} bytes; "
                                 f"the file has {body} after its header (truncated or forged)")


def check_stl_counts(data: bytes, uri: str) -> None:
    """A binary STL (84-byte header) holds exactly 50 bytes per triangle its header counts."""
    if data[:5].lower() == b"solid" and b"facet" in data[:1024]:
        return  # ASCII
    if len(data) < 84:
        raise GeometryError(uri, f"truncated binary STL ({len(data)} bytes, the header alone is 84)")
    count = int(np.frombuffer(data[80:84], dtype="<u4")[0])
    if len(data) < 84 + 50 * count:
        raise GeometryError(uri, f"binary STL header declares {count} triangles ({84 + 50 * count} bytes); "
                                 f"the file has {len(data)} (truncated or forged)")


def _npy_header(stream: io.BytesIO, size: int, uri: str) -> None:
    """The shape and dtype an NPY header declares must fit in the `size` bytes of the array."""
    try:
        version = np.lib.format.read_magic(stream)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"NPY format version {version} is not supported")
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read(stream)
    except (ValueError, OSError, EOFError, SyntaxError) as error:
        raise GeometryError(uri, f"cannot parse as NPY: {error}") from None
    needed = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if dtype.hasobject or needed > size - stream.tell():
        raise GeometryError(uri, f"NPY header declares {dtype} {list(shape)} ({needed} bytes); the file holds "
                                 f"{size - stream.tell()} (truncated, forged or an object array)")


def parse_npy(data: bytes, uri: str) -> Shape:
    _npy_header(io.BytesIO(data), len(data), uri)
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise GeometryError(uri, f"cannot parse as NPY: {error}") from None
    return _array_shape(array, uri)


def parse_npz(data: bytes, uri: str) -> Shape:
    """Keys `points` (+ `normals`) or `occupancy` (+ `origin`, `pitch`), or a single array.
    Each member's declared size bounds what is inflated (zipfile reads no more) and its NPY
    header must fit in it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                if info.file_size > MAX_MEMBER_BYTES:
                    raise GeometryError(uri, f"NPZ member {info.filename} inflates to {info.file_size} bytes "
                                             f"(more than {MAX_MEMBER_BYTES})")
                with archive.open(info) as member:
                    _npy_header(io.BytesIO(member.read(65536)), info.file_size, f"{uri}:{info.filename}")
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        raise GeometryError(uri, f"cannot parse as NPZ: {error}") from None
    try:
        archive = np.load(io.BytesIO(data), allow_pickle=False)
        arrays = {key: archive[key] for key in archive.files}
    except (ValueError, OSError, EOFError) as error:
        raise GeometryError(uri, f"cannot parse as NPZ: {error}") from None
    if "points" in arrays:
        return PointCloud(arrays["points"], arrays.get("normals"), source=uri)
    if "occupancy" in arrays:
        origin = arrays.get("origin", np.zeros(3))
        pitch = float(np.asarray(arrays.get("pitch", 1.0)).reshape(-1)[0])
        return VoxelGrid(arrays["occupancy"], origin, pitch, source=uri)
    if len(arrays) == 1:
        return _array_shape(next(iter(arrays.values())), uri)
    raise GeometryError(uri, f"NPZ needs a 'points' or 'occupancy' array, found keys {sorted(arrays)}")


def parse_binvox(data: bytes, uri: str) -> VoxelGrid:
    """binvox 1: text header (dim, translate, scale) then run-length (value, count) bytes."""
    stream = io.BytesIO(data)
    if not stream.readline().startswith(b"#binvox"):
        raise GeometryError(uri, "not a binvox file (missing '#binvox' header)")
    header: dict[str, list[float]] = {}
    for _ in range(16):
        line = stream.readline().strip()
        if line == b"data":
            break
        if not line:
            raise GeometryError(uri, "truncated binvox header")
        key, *values = line.decode("ascii", errors="replace").split()
        try:
            header[key] = [float(v) for v in values]
        except ValueError:
            raise GeometryError(uri, f"bad binvox header line {line!r}") from None
    else:
        raise GeometryError(uri, "binvox header has no 'data' line")
    if "dim" not in header or len(header["dim"]) != 3:
        raise GeometryError(uri, "binvox header lacks 'dim X Y Z'")
    dims = tuple(int(d) for d in header["dim"])
    if min(dims) < 1 or int(np.prod(dims, dtype=object)) > MAX_VOXELS:
        raise GeometryError(uri, f"binvox dims {list(dims)} outside 1..{MAX_VOXELS} voxels")
    runs = np.frombuffer(stream.read(), dtype=np.uint8)
    if len(runs) % 2:
        raise GeometryError(uri, "binvox run-length data has an odd number of bytes")
    values, counts = runs[0::2], runs[1::2].astype(np.int64)
    if counts.sum() != np.prod(dims):
        raise GeometryError(uri, f"binvox data holds {counts.sum()} voxels, header says {np.prod(dims)}")
    flat = np.repeat(values.astype(bool), counts)
    # binvox stores x slowest, then z, then y fastest.
    occupancy = flat.reshape(dims[0], dims[2], dims[1]).transpose(0, 2, 1)
    translate = header.get("translate", [0.0, 0.0, 0.0])
    scale = header.get("scale", [1.0])[0]
    return VoxelGrid(occupancy, np.asarray(translate), scale / max(dims), source=uri)
