"""Similarity normalization: into the unit sphere (Davies et al.) or the [-1,1] cube (inr2vec).

The transform is kept (and stored per shape) so that fields fitted in the normalized frame
can be mapped back: normalized = (x - center) / scale, original = normalized * scale + center.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .io import as_shape, is_trimesh
from .shapes import GeometryError, Mesh, PointCloud, Shape, VoxelGrid

MODES = ("sphere", "cube")


@dataclass(frozen=True)
class Similarity:
    """Uniform scale and translation: apply(x) = (x - center) / scale."""

    center: np.ndarray
    scale: float

    def __post_init__(self):
        center = np.asarray(self.center, dtype=np.float64).reshape(-1)
        if center.shape != (3,) or not np.isfinite(center).all():
            raise ValueError(f"Similarity center must be 3 finite numbers, got {self.center!r}")
        if not np.isfinite(self.scale) or self.scale <= 0:
            raise ValueError(f"Similarity scale must be positive and finite, got {self.scale!r}")
        object.__setattr__(self, "center", center)
        object.__setattr__(self, "scale", float(self.scale))

    @classmethod
    def identity(cls) -> "Similarity":
        return cls(np.zeros(3), 1.0)

    def apply(self, points) -> np.ndarray:
        """Original frame -> normalized frame (keeps float32 input as float32)."""
        points = np.asarray(points)
        dtype = points.dtype if points.dtype in (np.float32, np.float64) else np.float64
        return ((points - self.center) / self.scale).astype(dtype, copy=False)

    def invert(self, points) -> np.ndarray:
        """Normalized frame -> original frame."""
        points = np.asarray(points)
        dtype = points.dtype if points.dtype in (np.float32, np.float64) else np.float64
        return (points * self.scale + self.center).astype(dtype, copy=False)

    def apply_distance(self, distance):
        """Distances scale by 1/scale into the normalized frame."""
        return np.asarray(distance) / self.scale

    def then(self, other: "Similarity") -> "Similarity":
        """The transform doing self first, then other."""
        return Similarity(self.center + other.center * self.scale, self.scale * other.scale)

    def to_dict(self) -> dict:
        return {"center": [float(c) for c in self.center], "scale": self.scale}

    @classmethod
    def from_dict(cls, data: dict) -> "Similarity":
        try:
            return cls(np.asarray(data["center"], dtype=np.float64), float(data["scale"]))
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a Similarity dict (needs 'center' and 'scale'): {data!r}") from error


def _extreme_points(shape: Shape) -> np.ndarray:
    """Points whose bounding box / farthest distance define the shape's extent."""
    if isinstance(shape, Mesh):
        return shape.used_vertices()
    if isinstance(shape, PointCloud):
        return shape.points
    corners = shape.boundary_index()
    # The solid's extreme points are corners of its boundary voxels; 8 offsets per voxel.
    offsets = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)])
    boundary = np.unique((corners[:, None, :] + offsets[None]).reshape(-1, 3), axis=0)
    return shape.origin + boundary * shape.pitch


def fit_similarity(shape: Shape, mode: str = "sphere") -> Similarity:
    """Similarity mapping the shape into the unit sphere or the [-1,1] cube, centred on its box."""
    shape = as_shape(shape)
    if mode not in MODES:
        raise GeometryError(shape.source, f"unknown normalization mode {mode!r}; expected one of {MODES}")
    points = _extreme_points(shape)
    low, high = points.min(axis=0), points.max(axis=0)
    center = (low + high) / 2
    if mode == "sphere":
        scale = float(np.sqrt(((points - center) ** 2).sum(axis=1).max()))
    else:
        scale = float((high - low).max() / 2)
    if not scale > 0:
        raise GeometryError(shape.source, "zero-extent bounding box, cannot normalize")
    return Similarity(center, scale)


def transform_shape(shape: Shape, similarity: Similarity) -> Shape:
    """The same shape expressed in the similarity's normalized frame (a trimesh object comes back
    as one)."""
    if is_trimesh(shape):
        return transform_shape(as_shape(shape), similarity).to_trimesh()
    shape = as_shape(shape)
    if isinstance(shape, Mesh):
        return Mesh(similarity.apply(shape.vertices), shape.faces, source=shape.source)
    if isinstance(shape, PointCloud):
        # Uniform scale and translation leave unit normals unchanged.
        return PointCloud(similarity.apply(shape.points), shape.normals, source=shape.source)
    if isinstance(shape, VoxelGrid):
        return VoxelGrid(shape.occupancy, similarity.apply(shape.origin), shape.pitch / similarity.scale, source=shape.source)
    raise TypeError(f"not a shape: {type(shape).__name__}")


def normalize(shape: Shape, mode: str = "sphere") -> tuple[Shape, Similarity]:
    """Normalize into the unit sphere ("sphere", Davies) or [-1,1]^3 ("cube", inr2vec).

    Returns the normalized shape and the Similarity that produced it (its `invert` maps
    normalized points back to the original frame).
    """
    similarity = fit_similarity(shape, mode)
    return transform_shape(shape, similarity), similarity
