"""Shape containers (mesh, point cloud, voxel grid) validated at construction.

Every shape carries the URI it came from so that any later error can name it. The
containers are plain frozen dataclasses holding numpy arrays, so they pickle cheaply
across Ray workers; acceleration structures live elsewhere (see `distance.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypeAlias

import numpy as np


class GeometryError(ValueError):
    """A shape or a geometry file cannot be used; the message names the source and why."""

    def __init__(self, source: str, reason: str | None = None):
        # GeometryError("uri", "why") is the norm; a single ready-made message is accepted too.
        super().__init__(source if reason is None else f"{source}: {reason}")
        self.source = source if reason is not None else None
        self.reason = reason if reason is not None else source


def _points_array(values, name: str, source: str) -> np.ndarray:
    array = np.ascontiguousarray(values, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 3:
        raise GeometryError(source, f"{name} must have shape [N, 3], got {list(array.shape)}")
    if len(array) == 0:
        raise GeometryError(source, f"empty: no {name}")
    if not np.isfinite(array).all():
        raise GeometryError(source, f"{name} contain NaN or infinite coordinates")
    return array


def _check_extent(points: np.ndarray, source: str) -> None:
    extent = points.max(axis=0) - points.min(axis=0)
    if not (extent > 0).any():
        raise GeometryError(source, "zero-extent bounding box (all points coincide)")


@dataclass(frozen=True, eq=False, repr=False)
class Mesh:
    """Triangle mesh: float64 vertices [V,3], int64 faces [F,3] indexing them."""

    vertices: np.ndarray
    faces: np.ndarray
    source: str = "<memory>"

    kind: ClassVar[str] = "mesh"

    def __post_init__(self):
        vertices = _points_array(self.vertices, "vertices", self.source)
        faces = np.ascontiguousarray(self.faces, dtype=np.int64)
        if faces.ndim != 2 or faces.shape[1] != 3:
            raise GeometryError(self.source, f"faces must have shape [F, 3], got {list(faces.shape)}")
        if len(faces) == 0:
            raise GeometryError(self.source, "no faces")
        if faces.min() < 0 or faces.max() >= len(vertices):
            raise GeometryError(self.source, "face indices out of range of the vertices")
        object.__setattr__(self, "vertices", vertices)
        object.__setattr__(self, "faces", faces)
        # Only the referenced vertices define the shape's extent.
        _check_extent(self.used_vertices(), self.source)

    def used_vertices(self) -> np.ndarray:
        """The vertices that some face references (unreferenced ones are not part of the shape)."""
        used = np.zeros(len(self.vertices), dtype=bool)
        used[self.faces.reshape(-1)] = True
        return self.vertices if used.all() else self.vertices[used]

    @property
    def bounds(self) -> np.ndarray:
        """[2, 3] min and max corner of the referenced vertices."""
        used = self.used_vertices()
        return np.stack([used.min(axis=0), used.max(axis=0)])

    def __repr__(self) -> str:
        return f"Mesh({len(self.vertices)} vertices, {len(self.faces)} faces, source={self.source!r})"

    def to_trimesh(self):
        import trimesh

        return trimesh.Trimesh(self.vertices, self.faces, process=False)


@dataclass(frozen=True, eq=False, repr=False)
class PointCloud:
    """Points float64 [N,3] with optional unit normals float64 [N,3]."""

    points: np.ndarray
    normals: np.ndarray | None = None
    source: str = "<memory>"

    kind: ClassVar[str] = "pointcloud"

    def __post_init__(self):
        points = _points_array(self.points, "points", self.source)
        _check_extent(points, self.source)
        normals = self.normals
        if normals is not None:
            normals = _points_array(normals, "normals", self.source)
            if normals.shape != points.shape:
                raise GeometryError(self.source, f"normals {list(normals.shape)} do not match points {list(points.shape)}")
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "normals", normals)

    def __repr__(self) -> str:
        normals = "with" if self.normals is not None else "without"
        return f"PointCloud({len(self.points)} points {normals} normals, source={self.source!r})"

    @property
    def bounds(self) -> np.ndarray:
        return np.stack([self.points.min(axis=0), self.points.max(axis=0)])


@dataclass(frozen=True, eq=False, repr=False)
class VoxelGrid:
    """Boolean occupancy [X,Y,Z]; voxel (i,j,k) is the cube origin + [i,i+1]x[j,j+1]x[k,k+1] * pitch."""

    occupancy: np.ndarray
    origin: np.ndarray
    pitch: float
    source: str = "<memory>"

    kind: ClassVar[str] = "voxels"

    def __post_init__(self):
        occupancy = np.asarray(self.occupancy)
        if occupancy.ndim != 3:
            raise GeometryError(self.source, f"occupancy must be a 3D array, got {occupancy.ndim}D")
        if occupancy.dtype != np.bool_:
            occupancy = occupancy != 0
        if not occupancy.any():
            raise GeometryError(self.source, "empty: no occupied voxel")
        origin = np.asarray(self.origin, dtype=np.float64).reshape(-1)
        if origin.shape != (3,) or not np.isfinite(origin).all():
            raise GeometryError(self.source, f"origin must be 3 finite numbers, got {origin.tolist()}")
        pitch = float(self.pitch)
        if not np.isfinite(pitch) or pitch <= 0:
            raise GeometryError(self.source, f"pitch must be a positive finite number, got {pitch}")
        object.__setattr__(self, "occupancy", np.ascontiguousarray(occupancy))
        object.__setattr__(self, "origin", origin)
        object.__setattr__(self, "pitch", pitch)

    def __repr__(self) -> str:
        return (f"VoxelGrid({'x'.join(map(str, self.occupancy.shape))}, {int(self.occupancy.sum())} occupied, "
                f"origin={self.origin.tolist()}, pitch={self.pitch:g}, source={self.source!r})")

    @property
    def bounds(self) -> np.ndarray:
        """[2, 3] corners of the box spanned by the occupied voxels."""
        occupied = np.argwhere(self.occupancy)
        return np.stack([self.origin + occupied.min(axis=0) * self.pitch,
                         self.origin + (occupied.max(axis=0) + 1) * self.pitch])

    def boundary_index(self) -> np.ndarray:
        """[M,3] indices of occupied voxels with an empty 6-neighbour (outside counts as empty)."""
        padded = np.pad(self.occupancy, 1, constant_values=False)
        interior = padded[1:-1, 1:-1, 1:-1].copy()
        for axis in range(3):
            for step in (-1, 1):
                interior &= np.roll(padded, step, axis=axis)[1:-1, 1:-1, 1:-1]
        return np.argwhere(self.occupancy & ~interior)

    def centers(self, index: np.ndarray) -> np.ndarray:
        """Centres of the voxels with integer indices [M,3]."""
        return self.origin + (np.asarray(index, dtype=np.float64) + 0.5) * self.pitch


Shape: TypeAlias = Mesh | PointCloud | VoxelGrid
