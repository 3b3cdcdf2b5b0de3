"""Fields to trace, mesh and compose: INR rows of a weight dataset, analytic primitives, CSG.

    ds = inrzoo.open_weights("ds.zarr")
    shape = fields.row(ds, 0) | fields.sphere(0.25).translate([0.7, 0, 0])
    shape.mesh(128)                                  # trimesh.Trimesh (marching cubes)
    inrzoo.render.render_field(shape, size=512)      # sphere-traced picture
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inrzoo.fields.base import KINDS, Field
from inrzoo.fields.csg import (
    Combined,
    Transformed,
    difference,
    intersection,
    rotation_matrix,
    smooth_difference,
    smooth_intersection,
    smooth_union,
    union,
)
from inrzoo.fields.neural import INRField, dataset_fields
from inrzoo.fields.primitives import Box, Sphere, Torus, box, sphere, torus


def rows(dataset: Any, positions: Sequence[int], *, kind: str | None = None, lipschitz: str = "estimated") -> INRField:
    """The INRs at `positions` of a WeightDataset as one field of len(positions) rows (they must
    share an architecture and a field kind; `dataset_fields` splits mixed ones)."""
    groups = dataset_fields(dataset, positions, kind=kind, lipschitz=lipschitz)
    if len(groups) > 1:
        raise ValueError(f"{dataset.uri}: rows {list(positions)} span {len(groups)} architectures or field kinds; "
                         "use inrzoo.fields.dataset_fields")
    return groups[0][1]


def row(dataset: Any, position: int, **options: Any) -> INRField:
    """The INR at one position of a WeightDataset (a field of one row)."""
    return rows(dataset, [position], **options)


__all__ = [
    "KINDS",
    "Box",
    "Combined",
    "Field",
    "INRField",
    "Sphere",
    "Torus",
    "Transformed",
    "box",
    "dataset_fields",
    "difference",
    "intersection",
    "rotation_matrix",
    "row",
    "rows",
    "smooth_difference",
    "smooth_intersection",
    "smooth_union",
    "sphere",
    "torus",
    "union",
]
