"""Turn a fitted field back into geometry: meshes by marching cubes (SDF), voxel grids
(occupancy). The field is any batched callable f(points float32 [M,3]) -> [M] evaluated on
a regular grid of the normalized domain; results are mapped back with the Similarity."""

from __future__ import annotations

import numpy as np

from .normalize import Similarity
from .shapes import GeometryError, VoxelGrid


def evaluate(f, points: np.ndarray) -> np.ndarray:
    """f(points) as float32 [M], accepting numpy arrays or torch tensors back."""
    values = f(points)
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    values = np.asarray(values, dtype=np.float32).reshape(-1)
    if len(values) != len(points):
        raise ValueError(f"field returned {len(values)} values for {len(points)} points")
    return values


def numpy_field(f):
    """f as a function of numpy points: a torch module is called on tensors, without gradients."""
    import torch

    if not isinstance(f, torch.nn.Module):
        return f

    def call(points: np.ndarray):
        with torch.no_grad():
            return f(torch.from_numpy(np.ascontiguousarray(points, dtype=np.float32)))

    return call


def _box(bounds) -> tuple[np.ndarray, np.ndarray]:
    low, high = (np.broadcast_to(np.asarray(b, dtype=np.float64), (3,)) for b in bounds)
    if not (high > low).all():
        raise ValueError(f"bounds must have low < high on every axis, got {bounds!r}")
    return low, high


def sample_grid(f, shape: tuple[int, int, int], low: np.ndarray, step: np.ndarray, batch_size: int) -> np.ndarray:
    """f at low + index * step for every index of a grid of `shape`, in batches."""
    total = int(np.prod(shape))
    values = np.empty(total, dtype=np.float32)
    for start in range(0, total, batch_size):
        index = np.stack(np.unravel_index(np.arange(start, min(start + batch_size, total)), shape), axis=1)
        values[start:start + len(index)] = evaluate(f, (low + index * step).astype(np.float32))
    return values.reshape(shape)


def extract_mesh(f, resolution: int, *, bounds=(-1.0, 1.0), level: float = 0.0,
                 transform: Similarity | None = None, batch_size: int = 262144):
    """Marching cubes of f's `level` set on a resolution^3 grid spanning `bounds`.

    Faces are oriented outward for a field that grows outward (an SDF, negative inside).
    With a transform, vertices are mapped back to the original frame by transform.invert.
    """
    import trimesh
    from skimage.measure import marching_cubes

    if resolution < 2:
        raise ValueError(f"resolution must be >= 2, got {resolution}")
    low, high = _box(bounds)
    step = (high - low) / (resolution - 1)
    volume = sample_grid(f, (resolution,) * 3, low, step, batch_size)
    if not np.isfinite(volume).all():
        raise GeometryError("extract_mesh", "the field returned NaN or infinite values")
    if not volume.min() < level < volume.max():
        raise GeometryError("extract_mesh", f"the field never crosses level {level} on the grid "
                            f"(range {volume.min():.4g} .. {volume.max():.4g})")
    vertices, faces, _, _ = marching_cubes(volume, level=level, spacing=tuple(step), gradient_direction="descent")
    vertices = vertices.astype(np.float64) + low
    if transform is not None:
        vertices = transform.invert(vertices)
    return trimesh.Trimesh(vertices, faces.astype(np.int64), process=False)


def voxels_from_occupancy(f, resolution: int, *, bounds=(-1.0, 1.0), level: float = 0.5,
                          transform: Similarity | None = None, batch_size: int = 262144,
                          source: str = "<field>") -> VoxelGrid:
    """Voxel grid of resolution^3 cells over the cube `bounds`, occupied where f(centre) > level
    (0.5 for probabilities, 0 for logits). With a transform, placed in the original frame."""
    low, high = _box(bounds)
    if not np.allclose(high - low, (high - low)[0]):
        raise ValueError(f"voxels need cubic bounds, got {bounds!r}")
    pitch = float(high[0] - low[0]) / resolution
    values = sample_grid(f, (resolution,) * 3, low + pitch / 2, np.full(3, pitch), batch_size)
    occupancy = values > level
    if not occupancy.any():
        raise GeometryError(source, f"no voxel centre has a field value above {level}")
    grid = VoxelGrid(occupancy, low, pitch, source=source)
    if transform is not None:
        grid = VoxelGrid(occupancy, transform.invert(low), pitch * transform.scale, source=source)
    return grid
