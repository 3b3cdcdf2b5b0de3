"""Field: a batch of K scalar fields over 3D points that can be traced, meshed and composed.

Two views of every field:
- `values(x)`: the field in its own units (signed distance, negative inside; unsigned distance;
  occupancy as probability - 0.5, positive inside), what users and CSG combine;
- `level(x)`: what the renderer marches on, surface at 0 and negative inside (inside the shell
  for unsigned distances), with `lipschitz()` a bound on its gradient norm per row: |level(x)| /
  lipschitz() is a distance that reaches no surface (Hart's unbounding sphere).
For analytic and CSG fields the two coincide; an INR marches on its raw network output (larger
steps, see inrzoo.fields.neural).
Points are torch tensors [K, N, 3] (or [1, N, 3], broadcast to every row); values [K, N].
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

KINDS = ("sdf", "udf", "occupancy")


class Field(ABC):
    kind: str = "sdf"
    radius: float = 1.0  # every surface of interest lies in the ball of this radius about the origin

    @property
    @abstractmethod
    def rows(self) -> int:
        """K: how many fields this batch holds (1 for analytic shapes)."""

    @abstractmethod
    def values(self, points: torch.Tensor) -> torch.Tensor:
        """The field in its own units at points [K or 1, N, 3] -> [K, N]."""

    def value_lipschitz(self) -> torch.Tensor:
        """[K] bound on |grad values|; equal to `lipschitz()` where level and values coincide."""
        return self.lipschitz()

    def level(self, points: torch.Tensor) -> torch.Tensor:
        """What tracing marches on: surface at 0, negative inside; defaults to `values`."""
        return self.values(points)

    @abstractmethod
    def lipschitz(self) -> torch.Tensor:
        """[K] bound on |grad level| (float32)."""

    @abstractmethod
    def select(self, rows: Sequence[int]) -> "Field":
        """The fields of some rows, in that order."""

    # --- numpy conveniences -----------------------------------------------------------------------
    def __call__(self, points: Any) -> np.ndarray:
        """values at points [N, 3] (numpy or torch): [N] for one row, [K, N] for several."""
        x = torch.as_tensor(np.asarray(points, dtype=np.float32) if not torch.is_tensor(points) else points,
                            dtype=torch.float32)
        if x.dim() != 2 or x.shape[1] != 3:
            raise ValueError(f"{self!r}: expected points of shape [N, 3], got {tuple(x.shape)}")
        with torch.no_grad():
            out = self.values(x.unsqueeze(0))
        out = out.numpy()
        return out[0] if self.rows == 1 else out

    def mesh(self, resolution: int = 128, *, row: int = 0, bounds: Any = None, level: float = 0.0):
        """Marching cubes of one row's zero level set (inrzoo.geometry.extract_mesh): a
        trimesh.Trimesh in this field's frame. bounds defaults to the cube around `radius`."""
        from inrzoo.geometry import extract_mesh

        if self.kind == "udf":
            raise ValueError(f"{self!r}: an unsigned distance field has no inside for marching cubes; "
                             "use inrzoo.geometry.points_from_udf")
        one = self.select([row])
        extent = bounds if bounds is not None else (-self.radius, self.radius)
        sign = -1.0 if self.kind == "occupancy" else 1.0  # marching cubes wants negative inside

        def field(points: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return sign * one.values(torch.from_numpy(points).unsqueeze(0))[0].numpy()

        return extract_mesh(field, resolution, bounds=extent, level=level)

    # --- CSG (inrzoo.fields.csg) -------------------------------------------------------------------
    def __or__(self, other: "Field") -> "Field":
        from inrzoo.fields.csg import union

        return union(self, other)

    def __and__(self, other: "Field") -> "Field":
        from inrzoo.fields.csg import intersection

        return intersection(self, other)

    def __sub__(self, other: "Field") -> "Field":
        from inrzoo.fields.csg import difference

        return difference(self, other)

    def smooth_union(self, other: "Field", k: float) -> "Field":
        from inrzoo.fields.csg import smooth_union

        return smooth_union(self, other, k)

    def translate(self, offset: Sequence[float]) -> "Field":
        from inrzoo.fields.csg import Transformed

        return Transformed(self, translation=offset)

    def rotate(self, axis: str | Sequence[float], degrees: float) -> "Field":
        from inrzoo.fields.csg import Transformed, rotation_matrix

        return Transformed(self, rotation=rotation_matrix(axis, degrees))

    def scale(self, factor: float) -> "Field":
        from inrzoo.fields.csg import Transformed

        return Transformed(self, scale=factor)


def broadcast_points(points: torch.Tensor, rows: int, owner: Any) -> torch.Tensor:
    """points [1, N, 3] or [rows, N, 3] as [rows, N, 3] (a view when broadcasting)."""
    if points.dim() != 3 or points.shape[-1] != 3:
        raise ValueError(f"{owner!r}: expected points [K, N, 3], got {tuple(points.shape)}")
    if points.shape[0] == rows:
        return points
    if points.shape[0] == 1:
        return points.expand(rows, -1, -1)
    raise ValueError(f"{owner!r}: points for {points.shape[0]} rows given to a field of {rows} rows")
