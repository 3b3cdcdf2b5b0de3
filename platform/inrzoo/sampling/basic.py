"""The plain samplers: surface points with normals, uniform points, voxel centroids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from inrzoo.geometry.io import as_shape
from inrzoo.sampling.domains import check_positive, surface_points, uniform_in_ball, uniform_in_box
from inrzoo.sampling.near_surface import check_box
from inrzoo.sampling.samples import FieldName, Samples, as_generator, check_counts, check_field, evaluate, resolve_field

if TYPE_CHECKING:
    from inrzoo.geometry import Shape


@dataclass
class SurfaceSampler:
    """n points on the surface (area-weighted on meshes) with their normals where the shape has them.

    Distance fields are 0 there by construction; occupancy is evaluated (for voxel grids the
    surface samples are boundary voxel centres, which are occupied).
    """

    n: int = 100_000
    field: FieldName | None = None

    def __post_init__(self) -> None:
        check_counts("SurfaceSampler", n=self.n)
        check_field(self.field)

    def sample(self, shape: Shape, rng: np.random.Generator | int) -> Samples:
        shape = as_shape(shape)
        rng = as_generator(rng)
        field = resolve_field(shape, self.field)
        points, normals = surface_points(shape, self.n, rng)
        if field == "occupancy":
            values = evaluate(shape, points, field)
        else:
            values = np.zeros(points.shape[0], dtype=np.float32)
        return Samples(points=points, values=values, field=field, normals=normals)


@dataclass
class UniformSampler:
    """n points uniform in the cube [-extent, extent]^3 or the ball of radius `extent`."""

    n: int = 100_000
    domain: Literal["cube", "sphere"] = "cube"
    extent: float = 1.0
    field: FieldName | None = None

    def __post_init__(self) -> None:
        check_counts("UniformSampler", n=self.n)
        if self.domain not in ("cube", "sphere"):
            raise ValueError(f"UniformSampler: domain must be 'cube' or 'sphere', got {self.domain!r}")
        check_positive("UniformSampler", extent=self.extent)
        check_field(self.field)

    def sample(self, shape: Shape, rng: np.random.Generator | int) -> Samples:
        shape = as_shape(shape)
        rng = as_generator(rng)
        field = resolve_field(shape, self.field)
        if self.domain == "cube":
            points = uniform_in_box(self.n, rng, -self.extent, self.extent)
        else:
            points = uniform_in_ball(self.n, rng, self.extent)
        return Samples(points=points, values=evaluate(shape, points, field), field=field)


@dataclass
class VoxelCentroidSampler:
    """The centres of a regular grid of cells, in C order (values.reshape(X, Y, Z) is the grid).

    With `resolution` unset and a voxel grid, these are the grid's own cells and the values its
    occupancy, read directly (inr2vec fits voxels on their centroids). Otherwise a
    resolution^3 grid of cells tiling the `box` cube, with ground truth at the centres.
    The sampler draws no random numbers: its output is the same under every seed.
    """

    resolution: int | None = None
    box: tuple[float, float] = (-1.0, 1.0)
    field: FieldName | None = None

    def __post_init__(self) -> None:
        self.box = tuple(self.box)
        if self.resolution is not None:
            check_counts("VoxelCentroidSampler", resolution=self.resolution)
        check_box("VoxelCentroidSampler", self.box)
        check_field(self.field)

    def sample(self, shape: Shape, rng: np.random.Generator | int) -> Samples:
        shape = as_shape(shape)
        as_generator(rng)
        field = resolve_field(shape, self.field)
        if self.resolution is None:
            if getattr(shape, "kind", None) != "voxels":
                raise ValueError(
                    f"{getattr(shape, 'source', '<shape>')}: VoxelCentroidSampler needs a resolution "
                    f"for a shape of kind {getattr(shape, 'kind', None)!r}"
                )
            points = shape.centers(grid_indices(shape.occupancy.shape)).astype(np.float32)
            if field == "occupancy":
                return Samples(points=points, values=shape.occupancy.reshape(-1), field=field)
            return Samples(points=points, values=evaluate(shape, points, field), field=field)
        # Same convention as VoxelGrid: cell (i, j, k) spans low + [i, i+1] * pitch, centre at +0.5.
        pitch = (self.box[1] - self.box[0]) / self.resolution
        index = grid_indices((self.resolution,) * 3)
        points = (self.box[0] + (index + 0.5) * pitch).astype(np.float32)
        return Samples(points=points, values=evaluate(shape, points, field), field=field)


def grid_indices(dims: tuple[int, ...]) -> np.ndarray:
    """Integer indices [X*Y*Z, 3] of every cell of a grid, in C order."""
    return np.indices(dims).reshape(len(dims), -1).T
