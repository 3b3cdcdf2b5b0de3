"""Training samples (points with ground-truth values) and the field each shape kind gives.

Every sampler works in the normalized frame (`inrzoo.geometry.normalize` first) and returns a
`Samples`. Which field the values hold depends on the shape: meshes give a signed distance by
default (an unsigned one on request, for open surfaces such as garments), point clouds an
unsigned distance, voxel grids occupancy. Ground truth always comes from
`inrzoo.geometry.ground_truth`, which queries in spatially ordered blocks of 1M points, so that
large point sets stay bounded in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, Protocol, get_args

import numpy as np
from scipy.spatial import cKDTree

if TYPE_CHECKING:
    from inrzoo.geometry import Shape

FieldName = Literal["sdf", "udf", "occupancy"]
FIELDS: tuple[str, ...] = get_args(FieldName)

# The field a shape gives when the sampler config leaves `field` unset.
DEFAULT_FIELD: dict[str, str] = {"mesh": "sdf", "pointcloud": "udf", "voxels": "occupancy"}


@dataclass(frozen=True, eq=False)
class Samples:
    """Points [N,3] float32 with values [N] float32 of `field`; normals [N,3] only for surface samples."""

    points: np.ndarray
    values: np.ndarray
    field: str
    normals: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.field not in FIELDS:
            raise ValueError(f"Samples: field {self.field!r} is not one of {list(FIELDS)}")
        points = np.ascontiguousarray(self.points, dtype=np.float32)
        values = np.ascontiguousarray(self.values, dtype=np.float32).reshape(-1)
        if points.ndim != 2 or points.shape[1] != 3:
            raise ValueError(f"Samples: points must have shape [N, 3], got {points.shape}")
        if values.shape[0] != points.shape[0]:
            raise ValueError(f"Samples: {points.shape[0]} points but {values.shape[0]} values")
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "values", values)
        if self.normals is not None:
            normals = np.ascontiguousarray(self.normals, dtype=np.float32)
            if normals.shape != points.shape:
                raise ValueError(f"Samples: normals shape {normals.shape} differs from points {points.shape}")
            object.__setattr__(self, "normals", normals)

    def __len__(self) -> int:
        return int(self.points.shape[0])


class Sampler(Protocol):
    """What every sampler config offers: reproducible samples of one shape under `rng`."""

    def sample(self, shape: Shape, rng: np.random.Generator | int) -> Samples: ...


def as_generator(rng: np.random.Generator | int) -> np.random.Generator:
    """A numpy Generator from a Generator (used as is) or an integer seed."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy Generator or an int seed, got {type(rng).__name__}")


def resolve_field(shape: Shape, field: str | None) -> str:
    """The field to sample: the config's choice, or the default for the shape's kind."""
    if field is None:
        kind = getattr(shape, "kind", None)
        if kind not in DEFAULT_FIELD:
            raise ValueError(f"{_source(shape)}: cannot sample a shape of kind {kind!r}")
        return DEFAULT_FIELD[kind]
    if field not in FIELDS:
        raise ValueError(f"field {field!r} is not one of {list(FIELDS)}")
    return field


def check_field(field: str | None) -> None:
    """Config validation shared by the samplers' __post_init__."""
    if field is not None and field not in FIELDS:
        raise ValueError(f"field {field!r} is not one of {list(FIELDS)} (or None for the shape's default)")


def evaluate(shape: Shape, points: np.ndarray, field: str, unsigned: np.ndarray | None = None) -> np.ndarray:
    """Ground truth of `field` at `points`, float32 [N] (geometry queries in Z-ordered blocks).

    `unsigned`: the points' unsigned distances where already known (NaN elsewhere), as
    `distance_function` gives them; reused for the udf of meshes and point clouds and the sdf
    of meshes instead of querying again. The values are the same either way.
    """
    from inrzoo.geometry import ground_truth, signed_distance

    kind = getattr(shape, "kind", None)
    if unsigned is not None and kind in ("mesh", "pointcloud") and field in ("sdf", "udf"):
        if field == "sdf":
            return signed_distance(shape, points, unsigned=unsigned)
        distance = np.asarray(unsigned, dtype=np.float32).copy()
        missing = np.isnan(distance)
        if missing.any():
            distance[missing] = distance_function(shape)(points[missing])
        return distance
    return np.asarray(ground_truth(shape, points, field), dtype=np.float32)


def distance_function(shape: Shape) -> Callable[[np.ndarray], np.ndarray]:
    """The distance to the shape's surface as a function of points [M,3] -> float32 [M].

    Meshes and point clouds: the exact unsigned distance. Voxel grids have no distance field of
    their own; theirs is the distance to the nearest boundary-voxel centre (within half a voxel
    diagonal of the distance to the voxel faces), enough to weight samples towards the surface.
    All three are distances to a set, hence 1-Lipschitz (what `inrzoo.sampling.bounded` uses).
    """
    from inrzoo.geometry import unsigned_distance

    if getattr(shape, "kind", None) == "voxels":
        tree = cKDTree(shape.centers(shape.boundary_index()))
        return lambda points: tree.query(points, k=1)[0].astype(np.float32)
    return lambda points: np.asarray(unsigned_distance(shape, points), dtype=np.float32)


def unsigned_distances(shape: Shape, points: np.ndarray) -> np.ndarray:
    """Distance to the shape's surface at `points`, float32 [N] (see `distance_function`)."""
    return distance_function(shape)(points)


def concat(parts: list[Samples]) -> Samples:
    """One Samples from several of the same field (normals kept only if every part has them)."""
    if not parts:
        raise ValueError("concat: nothing to concatenate")
    fields = {p.field for p in parts}
    if len(fields) != 1:
        raise ValueError(f"concat: parts hold different fields {sorted(fields)}")
    normals = None
    if all(p.normals is not None for p in parts):
        normals = np.concatenate([p.normals for p in parts])
    return Samples(
        points=np.concatenate([p.points for p in parts]),
        values=np.concatenate([p.values for p in parts]),
        field=parts[0].field,
        normals=normals,
    )


def check_counts(owner: str, **counts: int) -> None:
    """Config validation: every count is a non-negative int and at least one is positive."""
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{owner}: {name} must be a non-negative integer, got {value!r}")
    if counts and sum(counts.values()) == 0:
        raise ValueError(f"{owner}: all of {sorted(counts)} are zero; nothing would be sampled")


def _source(shape: object) -> str:
    return str(getattr(shape, "source", "<shape>"))
