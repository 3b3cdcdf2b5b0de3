"""Point generators the samplers share: uniform in a ball or box, Gaussian shells around a surface.

All of them draw from the caller's numpy Generator only, in a fixed order, so a sampler's output
is a pure function of (config, shape, seed). Points are float32 to halve the memory of large
pools (a 10M-point pool is 120 MB).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from inrzoo.geometry import Shape


def uniform_in_ball(n: int, rng: np.random.Generator, radius: float = 1.0) -> np.ndarray:
    """n points uniform in the ball of `radius` at the origin: isotropic direction, r = R u^(1/3)."""
    points = rng.standard_normal((n, 3), dtype=np.float32)
    norms = np.linalg.norm(points, axis=1)
    np.maximum(norms, np.finfo(np.float32).tiny, out=norms)
    radii = rng.random(n, dtype=np.float32)
    np.cbrt(radii, out=radii)
    radii *= np.float32(radius)
    radii /= norms
    points *= radii[:, None]
    return points


def uniform_in_box(n: int, rng: np.random.Generator, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    """n points uniform in the axis-aligned cube [low, high]^3."""
    if not high > low:
        raise ValueError(f"box bounds must satisfy low < high, got ({low}, {high})")
    points = rng.random((n, 3), dtype=np.float32)
    points *= np.float32(high - low)
    points += np.float32(low)
    return points


def gaussian_shells(
    surface: np.ndarray, stds: tuple[float, ...], counts: tuple[int, ...], rng: np.random.Generator
) -> np.ndarray:
    """For each (std, count): `count` surface points, each moved by N(0, std^2 I).

    The surface points of a shell are taken in turn from `surface` (cycling when a count exceeds
    it) starting from a random offset, so every surface point is used before any is used twice.
    """
    if len(stds) != len(counts):
        raise ValueError(f"{len(stds)} standard deviations but {len(counts)} counts")
    if surface.shape[0] == 0 and sum(counts) > 0:
        raise ValueError("cannot perturb an empty set of surface points")
    shells = []
    for std, count in zip(stds, counts):
        start = int(rng.integers(surface.shape[0])) if surface.shape[0] else 0
        index = (start + np.arange(count)) % max(surface.shape[0], 1)
        noise = rng.standard_normal((count, 3), dtype=np.float32)
        noise *= np.float32(std)
        noise += surface[index]
        shells.append(noise)
    return np.concatenate(shells) if shells else np.empty((0, 3), dtype=np.float32)


def surface_points(shape: Shape, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
    """n points on the shape's surface (area-weighted on meshes) and their normals, if known."""
    from inrzoo.geometry import surface_samples

    if n == 0:
        return np.empty((0, 3), dtype=np.float32), None
    points, normals = surface_samples(shape, n, rng)
    points = np.asarray(points, dtype=np.float32)
    return points, None if normals is None else np.asarray(normals, dtype=np.float32)


def check_positive(owner: str, **values: float) -> None:
    """Config validation: each value (a number or a tuple of numbers) is finite and > 0."""
    for name, value in values.items():
        items = value if isinstance(value, (tuple, list)) else (value,)
        for item in items:
            if isinstance(item, bool) or not isinstance(item, (int, float)) or not np.isfinite(item) or item <= 0:
                raise ValueError(f"{owner}: {name} must be positive and finite, got {value!r}")
