"""Geometry: load shapes from any fsspec URI, normalize them, compute ground-truth fields
(signed distance with winding-number sign, unsigned distance, occupancy), sample their
surface, and extract meshes, point clouds and voxels back from fitted fields."""

from .distance import (
    FIELDS,
    ground_truth,
    occupancy,
    shape_index,
    signed_distance,
    unsigned_distance,
    winding_number,
)
from .io import load
from .normalize import Similarity, fit_similarity, normalize, transform_shape
from .shapes import GeometryError, Mesh, PointCloud, Shape, VoxelGrid
from .surface import surface_samples

__all__ = [
    "FIELDS",
    "GeometryError",
    "Mesh",
    "PointCloud",
    "Shape",
    "Similarity",
    "VoxelGrid",
    "fit_similarity",
    "ground_truth",
    "load",
    "normalize",
    "occupancy",
    "shape_index",
    "signed_distance",
    "surface_samples",
    "transform_shape",
    "unsigned_distance",
    "winding_number",
]
