"""Ground-truth fields: signed/unsigned distance, winding number, occupancy.

Meshes: exact unsigned distance through the compiled BVH of nearest_*.c (libigl's AABB tree where
that library is missing; built once per mesh and cached), sign from the fast generalized winding
number (Barill et al. 2018, as Davies et al. 2.2 use for meshes in the wild): a point is inside
where |w| >= 0.5, which stays right away from holes, self-intersections, non-manifold edges and
duplicated faces, and on meshes whose orientation is flipped as a whole.

On a closed mesh (every directed edge matched by its reverse: a 2-cycle, whatever its
self-intersections) w is an integer, constant on each connected piece of the complement of the
surface. A point whose surface-free ball (radius: its distance) overlaps that of an earlier point
then shares that point's sign, so w is only evaluated at the points whose ball overlaps none (my
choice of shortcut; with the exact w the result is identical, and the tests find no point where
the fast w disagrees with it either). Open meshes get w at every point. Point clouds: UDF and
its gradient from a KD-tree. Voxels: occupancy by lookup. Queries run in blocks so memory stays
bounded.
"""

from __future__ import annotations

import weakref

import igl
import numpy as np
from scipy.spatial import cKDTree

from . import nearest
from .blocks import gather_f64, ordered_blocks
from .io import as_shape
from .shapes import GeometryError, Mesh, PointCloud, Shape, VoxelGrid
from .surface import face_areas_normals

# 1M points per block: ~100 MB of float64 temporaries whatever the number of points.
BLOCK_SIZE = 1 << 20
# Barill et al.'s defaults: second-order expansion, accuracy (Barnes-Hut beta) 2.
WINDING_ORDER = 2
WINDING_ACCURACY = 2.0
FIELDS = ("sdf", "udf", "occupancy")
# The shapes that can give each field: a signed distance needs a closed-or-not mesh (the winding
# number decides the sign), an unsigned distance any surface, occupancy a mesh or a voxel grid.
FIELD_SHAPES: dict[str, tuple[type, ...]] = {"sdf": (Mesh,), "udf": (Mesh, PointCloud), "occupancy": (Mesh, VoxelGrid)}


def kinds_giving(field: str) -> tuple[str, ...]:
    """Shape kinds ("mesh", "pointcloud", "voxels") whose ground truth of `field` exists."""
    return tuple(cls.kind for cls in FIELD_SHAPES[field])


def is_closed(faces: np.ndarray) -> bool:
    """Whether every directed edge (i, j) of the faces is matched by a reverse one (j, i): the
    mesh bounds a volume and its winding number is an integer off the surface."""
    directed = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    base = int(faces.max()) + 1
    forward = directed[:, 0] * base + directed[:, 1]
    backward = directed[:, 1] * base + directed[:, 0]
    return bool(np.array_equal(np.sort(forward), np.sort(backward)))


# Sign sharing needs the computed distances to bound surface-free balls; it is switched off on
# meshes whose distance error bound exceeds this fraction of their extent (extreme slivers).
MAX_SHARING_ERROR = 1e-4


def distance_error_bound(mesh: Mesh) -> float:
    """How much a computed point-to-mesh distance may exceed the true one (my estimate, with an 8x
    margin over what was measured): rounding grows with the coordinates' magnitude and, on a
    sliver, with the square of its aspect ratio (longest edge over height; measured: a unit
    sliver of aspect 1e5 overestimates by 5e-7). Triangles of zero area are measured as their
    edges, which round like the coordinates."""
    corners = mesh.vertices[mesh.faces]
    longest = np.sqrt(((corners[:, [1, 2, 0]] - corners) ** 2).sum(axis=2).max(axis=1))
    twice_area = 2 * face_areas_normals(mesh)[0]
    height = np.divide(twice_area, longest, out=np.zeros_like(longest), where=longest > 0)
    aspect = np.divide(longest, height, out=np.ones_like(longest), where=height > 0)
    eps = np.finfo(np.float64).eps
    return float(8 * eps * (np.abs(corners).max() + (longest * aspect**2).max()))


class MeshIndex:
    """Trees of one mesh, built once: the closest-point BVH (libigl's AABB without the compiled
    library) and the fast-winding-number hierarchy (triangle-soup BVH with Taylor expansions)."""

    def __init__(self, mesh: Mesh):
        self.vertices = mesh.vertices
        self.faces = mesh.faces
        if nearest.available():
            self.nearest, self.tree = nearest.NearestTree(self.vertices, self.faces), None
            # Rounding room for the sign shortcut (a length every ball's radius shrinks by).
            self.slack = distance_error_bound(mesh)
            extent = float(np.ptp(mesh.vertices, axis=0).max())
            self.shares_signs = is_closed(mesh.faces) and self.slack <= MAX_SHARING_ERROR * extent
        else:  # the shortcut's links are computed by the compiled library too
            self.nearest, self.tree = None, igl.AABB()
            self.tree.init(self.vertices, self.faces)
            self.slack, self.shares_signs = 0.0, False
        self.winding_tree = igl.FastWindingNumberBVH()
        self.winding_tree.init(self.vertices, self.faces, WINDING_ORDER)

    def closest(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact squared distance [M] and closest surface point [M,3] for each point."""
        if self.nearest is not None:
            squared, closest, _ = self.nearest.query(points)
            return squared, closest
        squared, _, closest = self.tree.squared_distance(self.vertices, self.faces, points)
        return squared, closest

    def squared_distance(self, points: np.ndarray) -> np.ndarray:
        """Exact squared distance [M] only (skips writing the closest points)."""
        if self.nearest is not None:
            return self.nearest.query(points, with_closest=False)[0]
        return self.closest(points)[0]

    def inside(self, points: np.ndarray, distance: np.ndarray) -> np.ndarray:
        """|w| >= 0.5 per point, given each point's exact distance [M] (float32 is enough). On
        a closed mesh, w is evaluated only where a point starts a new surface-free ball."""
        if not self.shares_signs:
            return np.abs(self.winding(points)) >= 0.5
        anchor = nearest.link_anchors(points, distance, self.slack)
        starts = np.flatnonzero(anchor == np.arange(len(anchor)))
        inside = np.zeros(len(points), dtype=bool)
        inside[starts] = np.abs(self.winding(np.ascontiguousarray(points[starts]))) >= 0.5
        return inside[anchor]

    def winding(self, points: np.ndarray) -> np.ndarray:
        """Fast (hierarchical, Barnes-Hut) generalized winding number of each point."""
        return self.winding_tree.winding_number(points, WINDING_ACCURACY)


class CloudIndex:
    """KD-tree over the points of a point cloud."""

    def __init__(self, cloud: PointCloud):
        self.points = cloud.points
        self.tree = cKDTree(cloud.points)

    def closest(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        distance, index = self.tree.query(points, k=1, workers=-1)
        return distance**2, self.points[index]


# Weak keys: the index lives exactly as long as its shape, and shapes stay picklable.
_INDEXES: "weakref.WeakKeyDictionary[Shape, MeshIndex | CloudIndex]" = weakref.WeakKeyDictionary()


def shape_index(shape: Mesh | PointCloud) -> MeshIndex | CloudIndex:
    """The cached acceleration structure of a mesh or point cloud (built on first use)."""
    shape = as_shape(shape)
    index = _INDEXES.get(shape)
    if index is None:
        index = MeshIndex(shape) if isinstance(shape, Mesh) else CloudIndex(shape)
        _INDEXES[shape] = index
    return index


def _query_points(shape: Shape, points) -> np.ndarray:
    points = np.asarray(points)
    if points.ndim != 2 or points.shape[1] != 3:
        raise GeometryError(shape.source, f"query points must have shape [N, 3], got {list(points.shape)}")
    if not np.isfinite(points).all():
        raise GeometryError(shape.source, "query points contain NaN or infinite coordinates")
    return points


def _require(shape: Shape, allowed: tuple[type, ...], what: str) -> None:
    if not isinstance(shape, allowed):
        names = " or ".join(cls.kind for cls in allowed)
        raise GeometryError(shape.source, f"{what} needs a {names}, got a {getattr(shape, 'kind', type(shape).__name__)}")


def _prepare(shape: Shape, allowed: tuple[type, ...], what: str, points):
    """The shape (converted from trimesh or a path), checked query points and its cached index."""
    shape = as_shape(shape)
    _require(shape, allowed, what)
    return shape, _query_points(shape, points), shape_index(shape)


def winding_number(mesh: Mesh, points, *, exact: bool = False) -> np.ndarray:
    """Generalized winding number float64 [N]; exact=True sums every triangle's solid angle."""
    mesh, points, index = _prepare(mesh, (Mesh,), "winding number", points)
    out = np.empty(len(points), dtype=np.float64)
    for block in ordered_blocks(points, BLOCK_SIZE):
        chunk = gather_f64(points, block)
        out[block] = igl.winding_number(mesh.vertices, mesh.faces, chunk) if exact else index.winding(chunk)
    return out


def signed_distance(mesh: Mesh, points, unsigned=None, return_gradient: bool = False):
    """Exact distance to the surface, negative inside (|winding number| >= 0.5), float32 [N].

    `unsigned` (optional, [N]) holds distances already known, e.g. float32 values of
    `unsigned_distance`, NaN where unknown: those points only get their sign, the others the
    full query. The result is the same either way.
    With return_gradient, also its gradient float32 [N,3]: the signed unit vector from the
    closest surface point (zero on the surface); every point is then queried in full.
    """
    mesh, points, index = _prepare(mesh, FIELD_SHAPES["sdf"], "signed distance", points)
    known = None if unsigned is None else np.asarray(unsigned, dtype=np.float32).reshape(-1)
    if known is not None and known.shape[0] != len(points):
        raise GeometryError(mesh.source, f"{known.shape[0]} known distances for {len(points)} query points")
    out = np.empty(len(points), dtype=np.float32)
    gradient = np.empty((len(points), 3), dtype=np.float32) if return_gradient else None
    for block in ordered_blocks(points, BLOCK_SIZE):
        chunk = gather_f64(points, block)
        if return_gradient:
            squared, closest = index.closest(chunk)
            distance = np.sqrt(squared).astype(np.float32)
            inside = index.inside(chunk, distance)
            sign = np.where(inside, -1.0, 1.0)[:, None]
            safe = np.where(distance > 0, distance, 1.0)[:, None]
            gradient[block] = np.where(distance[:, None] > 0, sign * (chunk - closest) / safe, 0.0)
        else:
            distance = np.full(len(chunk), np.nan, dtype=np.float32) if known is None else known[block].copy()
            missing = np.isnan(distance)
            if missing.any():
                distance[missing] = np.sqrt(index.squared_distance(chunk[missing]))
            inside = index.inside(chunk, distance)
        out[block] = np.where(inside, -distance, distance)
    return (out, gradient) if return_gradient else out


def unsigned_distance(shape: Mesh | PointCloud, points, return_gradient: bool = False):
    """Unsigned distance float32 [N] to a mesh (open or closed) or a point cloud.

    With return_gradient, also the UDF gradient float32 [N,3]: the unit vector from the
    closest surface point to the query (zero on the surface, where the UDF has no gradient).
    """
    shape, points, index = _prepare(shape, FIELD_SHAPES["udf"], "unsigned distance", points)
    distance = np.empty(len(points), dtype=np.float32)
    gradient = np.empty((len(points), 3), dtype=np.float32) if return_gradient else None
    for block in ordered_blocks(points, BLOCK_SIZE):
        chunk = gather_f64(points, block)
        squared, closest = index.closest(chunk)
        d = np.sqrt(squared)
        distance[block] = d
        if return_gradient:
            offset = chunk - closest
            safe = np.where(d > 0, d, 1.0)[:, None]
            gradient[block] = np.where(d[:, None] > 0, offset / safe, 0.0)
    return (distance, gradient) if return_gradient else distance


def _voxel_occupancy(grid: VoxelGrid, points: np.ndarray) -> np.ndarray:
    out = np.zeros(len(points), dtype=bool)
    dims = np.asarray(grid.occupancy.shape)
    for start in range(0, len(points), BLOCK_SIZE):  # plain lookups: no need for spatial order
        block = slice(start, start + BLOCK_SIZE)
        cell = np.floor((gather_f64(points, block) - grid.origin) / grid.pitch).astype(np.int64)
        inside = ((cell >= 0) & (cell < dims)).all(axis=1)
        hits = cell[inside]
        values = np.zeros(len(cell), dtype=bool)
        values[inside] = grid.occupancy[hits[:, 0], hits[:, 1], hits[:, 2]]
        out[block] = values
    return out


def occupancy(shape: Mesh | VoxelGrid, points) -> np.ndarray:
    """Inside/outside bool [N]: |winding number| >= 0.5 for meshes, voxel lookup for grids."""
    shape = as_shape(shape)
    _require(shape, FIELD_SHAPES["occupancy"], "occupancy")
    points = _query_points(shape, points)
    if isinstance(shape, VoxelGrid):
        return _voxel_occupancy(shape, points)
    return np.abs(winding_number(shape, points)) >= 0.5


def ground_truth(shape: Shape, points, field: str) -> np.ndarray:
    """The field's value float32 [N] at the points: "sdf" (meshes), "udf" (meshes, point
    clouds), "occupancy" as 0/1 (meshes, voxels). A field the shape cannot give raises."""
    if field == "sdf":
        return signed_distance(shape, points)
    if field == "udf":
        return unsigned_distance(shape, points)
    if field == "occupancy":
        return occupancy(shape, points).astype(np.float32)
    raise GeometryError(getattr(shape, "source", "<shape>"), f"unknown field {field!r}; expected one of {FIELDS}")
