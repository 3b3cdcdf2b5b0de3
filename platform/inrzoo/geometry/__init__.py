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
from .extract import extract_mesh, voxels_from_occupancy
from .io import load, parse
from .level_set import level_set_points
from .normalize import Similarity, fit_similarity, normalize, transform_shape
from .shapes import GeometryError, Mesh, PointCloud, Shape, VoxelGrid
from .surface import surface_samples
from .udf_points import UdfProjection, points_from_udf

__all__ = [
    "FIELDS",
    "GeometryError",
    "Mesh",
    "PointCloud",
    "Shape",
    "UdfProjection",
    "Similarity",
    "VoxelGrid",
    "extract_mesh",
    "fit_similarity",
    "ground_truth",
    "level_set_points",
    "load",
    "parse",
    "normalize",
    "occupancy",
    "points_from_udf",
    "shape_index",
    "signed_distance",
    "surface_samples",
    "transform_shape",
    "unsigned_distance",
    "voxels_from_occupancy",
    "winding_number",
]
