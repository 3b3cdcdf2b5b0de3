"""Analytic signed distance functions (exact, hence 1-Lipschitz), centred at the origin.

Translate, rotate and scale them with the Field methods (inrzoo.fields.csg.Transformed).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from inrzoo.fields.base import Field


class Primitive(Field):
    """One analytic shape: values at points of any leading shape [..., 3] -> [...]."""

    kind = "sdf"

    @property
    def rows(self) -> int:
        return 1

    def lipschitz(self) -> torch.Tensor:
        return torch.ones(1)

    def select(self, rows: Sequence[int]) -> "Primitive":
        if any(int(r) != 0 for r in rows) or len(rows) != 1:
            raise IndexError(f"{self!r} has one row; asked for rows {list(rows)}")
        return self


def _positive(name: str, value: float, owner: str) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive finite number, got {value!r}")
    return value


class Sphere(Primitive):
    def __init__(self, radius: float):
        self.r = _positive("radius", radius, "sphere")
        self.radius = self.r

    def __repr__(self) -> str:
        return f"sphere({self.r:g})"

    def values(self, points: torch.Tensor) -> torch.Tensor:
        return points.norm(dim=-1) - self.r


class Box(Primitive):
    """Axis-aligned box with half extents (hx, hy, hz); the exact SDF (outside: distance to the
    box, inside: minus the distance to the nearest face)."""

    def __init__(self, half_extents: float | Sequence[float]):
        half = np.broadcast_to(np.asarray(half_extents, dtype=np.float64), (3,))
        for value in half:
            _positive("half extent", value, "box")
        self.half = torch.tensor(half, dtype=torch.float32)
        self.radius = float(np.linalg.norm(half))

    def __repr__(self) -> str:
        return f"box({self.half.tolist()})"

    def values(self, points: torch.Tensor) -> torch.Tensor:
        q = points.abs() - self.half.to(points.dtype)
        return q.clamp_min(0).norm(dim=-1) + q.amax(dim=-1).clamp_max(0)


class Torus(Primitive):
    """Ring of radius `major` in the xy-plane around the z axis, tube radius `minor` (chosen axis:
    z, the up axis of the renderer's default camera)."""

    def __init__(self, major: float, minor: float):
        self.major = _positive("major radius", major, "torus")
        self.minor = _positive("minor radius", minor, "torus")
        self.radius = self.major + self.minor

    def __repr__(self) -> str:
        return f"torus({self.major:g}, {self.minor:g})"

    def values(self, points: torch.Tensor) -> torch.Tensor:
        ring = points[..., :2].norm(dim=-1) - self.major
        return torch.stack((ring, points[..., 2]), dim=-1).norm(dim=-1) - self.minor


def sphere(radius: float) -> Sphere:
    return Sphere(radius)


def box(half_extents: float | Sequence[float]) -> Box:
    return Box(half_extents)


def torus(major: float, minor: float) -> Torus:
    return Torus(major, minor)
