"""Constructive solid geometry on signed distance fields (Davies et al. 2.3 compose INRs this way).

    shape = (fields.row(ds, 3) | fields.sphere(0.3).translate([0.6, 0, 0])) - fields.box(0.2)
    shape.smooth_union(other, k=0.1); shape.rotate("z", 30).scale(0.5)
    render_field(shape); shape.mesh(128)

Operands are sdf fields (analytic primitives, INR rows, other expressions); rows broadcast (a
field of K rows combined with a primitive gives K composites). Each node carries a Lipschitz
bound of its values, so sphere tracing a composite is as safe as its operands' bounds:
- union min(a, b), intersection max(a, b), difference max(a, -b): max(La, Lb);
- smooth union (Quilez's quadratic smin) min(a, b) - max(k - |a - b|, 0)^2 / (4k): its gradient
  is (1 - w) grad a + w grad b with w in [0, 1/2], so max(La, Lb) too; it never exceeds min(a, b)
  and never falls below min(a, b) - k/4; smooth intersection and difference are -smin(-a, -b)
  and that of (a, -b);
- Transformed: s * f(R^T (x - t) / s) is f's shape rotated by R, scaled by s, moved by t; the
  factor s keeps values in distance units, and the Lipschitz bound is unchanged. Only uniform
  scale keeps distances, so non-uniform scale is not offered.
Min and max of exact SDFs are bounds of the true distance (exact outside for a union); the
values of a composite are what sphere tracing and marching cubes need, not exact distances.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from inrzoo.fields.base import Field


def _operands(fields: Sequence[Field], op: str) -> list[Field]:
    if len(fields) < 2:
        raise ValueError(f"{op} needs at least two fields, got {len(fields)}")
    for field in fields:
        if not isinstance(field, Field):
            raise TypeError(f"{op}: {field!r} is not a field")
        if field.kind != "sdf":
            raise ValueError(f"{op}: {field!r} is a {field.kind} field; CSG combines signed distance fields")
    counts = {f.rows for f in fields if f.rows != 1}
    if len(counts) > 1:
        raise ValueError(f"{op}: operands have {sorted(counts)} rows; they must agree (or be 1)")
    return list(fields)


class Combined(Field):
    """A pointwise combination of operand values with a Lipschitz bound max(L_i)."""

    def __init__(self, name: str, fields: Sequence[Field], combine: Callable[[list[torch.Tensor]], torch.Tensor],
                 radius: float):
        self.name = name
        self.fields = _operands(fields, name)
        self.combine = combine
        self.radius = radius

    def __repr__(self) -> str:
        return f"{self.name}({', '.join(map(repr, self.fields))})"

    @property
    def rows(self) -> int:
        return max(f.rows for f in self.fields)

    def values(self, points: torch.Tensor) -> torch.Tensor:
        return self.combine([f.values(points) for f in self.fields])

    def lipschitz(self) -> torch.Tensor:
        bounds = [f.value_lipschitz() for f in self.fields]
        return torch.stack(torch.broadcast_tensors(*bounds)).amax(dim=0)

    def select(self, rows: Sequence[int]) -> "Combined":
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view.fields = [f.select(rows) if f.rows > 1 else f for f in self.fields]
        return view


def _reduce(op: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Callable[[list[torch.Tensor]], torch.Tensor]:
    def combine(values: list[torch.Tensor]) -> torch.Tensor:
        out = values[0]
        for value in values[1:]:
            out = op(out, value)
        return out

    return combine


def smin(a: torch.Tensor, b: torch.Tensor, k: float) -> torch.Tensor:
    """Quilez's quadratic smooth minimum: min(a, b) - max(k - |a - b|, 0)^2 / (4k)."""
    return torch.minimum(a, b) - (k - (a - b).abs()).clamp_min(0) ** 2 / (4.0 * k)


def _check_k(k: float, op: str) -> float:
    k = float(k)
    if not math.isfinite(k) or k <= 0:
        raise ValueError(f"{op}: blend radius k must be a positive finite number, got {k!r}")
    return k


def union(*fields: Field) -> Combined:
    return Combined("union", fields, _reduce(torch.minimum), max(f.radius for f in fields))


def intersection(*fields: Field) -> Combined:
    return Combined("intersection", fields, _reduce(torch.maximum), min(f.radius for f in fields))


def difference(a: Field, b: Field) -> Combined:
    """a with b cut away: max(a, -b)."""
    return Combined("difference", (a, b), lambda v: torch.maximum(v[0], -v[1]), a.radius)


def smooth_union(a: Field, b: Field, k: float) -> Combined:
    k = _check_k(k, "smooth_union")
    return Combined(f"smooth_union[k={k:g}]", (a, b), lambda v: smin(v[0], v[1], k), max(a.radius, b.radius) + k / 4)


def smooth_intersection(a: Field, b: Field, k: float) -> Combined:
    k = _check_k(k, "smooth_intersection")
    return Combined(f"smooth_intersection[k={k:g}]", (a, b), lambda v: -smin(-v[0], -v[1], k),
                    min(a.radius, b.radius))


def smooth_difference(a: Field, b: Field, k: float) -> Combined:
    k = _check_k(k, "smooth_difference")
    return Combined(f"smooth_difference[k={k:g}]", (a, b), lambda v: -smin(-v[0], v[1], k), a.radius)


def rotation_matrix(axis: str | Sequence[float], degrees: float) -> np.ndarray:
    """Rotation by `degrees` about "x", "y", "z" or any axis vector (right-handed), [3, 3]."""
    if isinstance(axis, str):
        names = {"x": (1.0, 0.0, 0.0), "y": (0.0, 1.0, 0.0), "z": (0.0, 0.0, 1.0)}
        if axis not in names:
            raise ValueError(f"rotation axis must be 'x', 'y', 'z' or a vector, got {axis!r}")
        axis = names[axis]
    u = np.asarray(axis, dtype=np.float64).reshape(-1)
    if u.shape != (3,) or not np.isfinite(u).all() or np.linalg.norm(u) == 0:
        raise ValueError(f"rotation axis must be a non-zero 3-vector, got {axis!r}")
    u = u / np.linalg.norm(u)
    angle = math.radians(float(degrees))
    cross = np.array([[0, -u[2], u[1]], [u[2], 0, -u[0]], [-u[1], u[0], 0]])
    return np.eye(3) + math.sin(angle) * cross + (1 - math.cos(angle)) * cross @ cross  # Rodrigues


class Transformed(Field):
    """child rotated by `rotation`, scaled by `scale` (uniform), then moved by `translation`."""

    def __init__(self, child: Field, *, rotation: np.ndarray | None = None, translation: Sequence[float] = (0, 0, 0),
                 scale: float = 1.0):
        if child.kind != "sdf":
            raise ValueError(f"transform: {child!r} is a {child.kind} field; transforms apply to signed distances")
        rotation = np.eye(3) if rotation is None else np.asarray(rotation, dtype=np.float64)
        if rotation.shape != (3, 3) or not np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-6) \
                or not np.isclose(np.linalg.det(rotation), 1.0, atol=1e-6):
            raise ValueError("transform: rotation must be a 3x3 rotation matrix (orthonormal, det +1)")
        translation = np.asarray(translation, dtype=np.float64).reshape(-1)
        if translation.shape != (3,) or not np.isfinite(translation).all():
            raise ValueError(f"transform: translation must be 3 finite numbers, got {translation.tolist()}")
        scale = float(scale)
        if not math.isfinite(scale) or scale <= 0:
            raise ValueError(f"transform: scale must be a positive finite number, got {scale!r} "
                             "(only uniform scale keeps distances)")
        self.child = child
        self.rotation = torch.tensor(rotation, dtype=torch.float32)
        self.translation = torch.tensor(translation, dtype=torch.float32)
        self.factor = scale
        self.radius = scale * child.radius + float(np.linalg.norm(translation))

    def __repr__(self) -> str:
        return f"transformed({self.child!r}, t={self.translation.tolist()}, s={self.factor:g})"

    @property
    def rows(self) -> int:
        return self.child.rows

    def values(self, points: torch.Tensor) -> torch.Tensor:
        local = (points - self.translation.to(points.dtype)) @ self.rotation.to(points.dtype) / self.factor
        return self.factor * self.child.values(local)  # (x - t) @ R is R^T (x - t) for row vectors

    def lipschitz(self) -> torch.Tensor:
        return self.child.value_lipschitz()

    def select(self, rows: Sequence[int]) -> "Transformed":
        view = object.__new__(Transformed)
        view.__dict__.update(self.__dict__)
        view.child = self.child.select(rows)
        return view
