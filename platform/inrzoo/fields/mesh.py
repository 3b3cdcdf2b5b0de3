"""A mesh as a field: its exact signed distance (inrzoo.geometry.signed_distance, winding-number
sign), so originals are drawn by the same tracer, camera and shading as their INRs.

The exact distance is 1-Lipschitz; where a mesh is open, the winding-number sign can flip away
from the surface, and the tracer then stops at that wall, which is the field the INR was fitted to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from inrzoo.fields.base import Field, broadcast_points


class _SignedDistance(torch.autograd.Function):
    """Values from libigl (numpy), gradients from the closest points: autograd gives normals."""

    @staticmethod
    def forward(ctx, points: torch.Tensor, mesh: Any) -> torch.Tensor:
        from inrzoo.geometry import signed_distance

        values, gradient = signed_distance(mesh, points.detach().reshape(-1, 3).cpu().numpy(), return_gradient=True)
        ctx.save_for_backward(torch.from_numpy(gradient).reshape(points.shape).to(points))
        return torch.from_numpy(values).reshape(points.shape[:-1]).to(points)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        (gradient,) = ctx.saved_tensors
        return grad_output[..., None] * gradient, None


class MeshField(Field):
    """One mesh (an inrzoo Mesh, a trimesh.Trimesh or a path), in the frame it is given in."""

    kind = "sdf"

    def __init__(self, mesh: Any, radius: float = 1.0, name: str | None = None):
        from inrzoo.geometry import as_shape

        self.mesh = as_shape(mesh, kind="mesh")
        self.radius = float(radius)
        self.name = name or self.mesh.source

    def __repr__(self) -> str:
        return f"MeshField({self.name!r})"

    @property
    def rows(self) -> int:
        return 1

    def values(self, points: torch.Tensor) -> torch.Tensor:
        if points.dim() == 3 and points.shape[0] > 1:  # one mesh, points of several composites
            return _SignedDistance.apply(points, self.mesh)
        return _SignedDistance.apply(broadcast_points(points, 1, self), self.mesh)

    def lipschitz(self) -> torch.Tensor:
        return torch.ones(1)

    def select(self, rows: Sequence[int]) -> "MeshField":
        if list(rows) != [0]:
            raise IndexError(f"{self!r} has one row; asked for rows {list(rows)}")
        return self
