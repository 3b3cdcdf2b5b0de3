"""Small datasets for the store tests: toy layouts (plain shapes) and real inrzoo architectures."""

from __future__ import annotations

import numpy as np

from inrzoo.store import ArchLayout, RowResult

TOY = ArchLayout(spec={"name": "toy"}, param_shapes={"w": (4, 3), "b": (4,)})
TOY_WIDE = ArchLayout(spec={"name": "toy_wide"}, param_shapes={"w": (8, 3), "b": (8,)})
LABELS = ("chair", "table", "lamp")


def listing(n: int, start: int = 0) -> list[dict]:
    return [
        {"id": f"shape{i}", "uri": f"file:///data/{i}.obj", "label": LABELS[i % 3],
         "split": "train" if i % 4 else "test", "kind": "mesh", "meta": {"licence": "CC-BY-4.0"}}
        for i in range(start, start + n)
    ]


def params_for(layout: ArchLayout, row: int) -> dict[str, np.ndarray]:
    """Deterministic parameters that encode the row, so misplaced rows are caught."""
    rng = np.random.default_rng(row)
    return {k: (rng.standard_normal(s) + row).astype(np.float32) for k, s in layout.param_shapes.items()}


def ok_result(layout: ArchLayout, row: int, arch=None, **metrics) -> RowResult:
    return RowResult(row=row, params=params_for(layout, row), arch=arch,
                     metrics={"surface_error": 1e-3 * row, "final_loss": 0.5, "steps": 10 * row, "seconds": 1.5, **metrics},
                     transform={"center": [row, 0.0, 0.0], "scale": 2.0}, sha256=f"{row:064x}")


def fill(writer, layout: ArchLayout = TOY, units=None, failed=()) -> None:
    for unit in units if units is not None else writer.work_units():
        writer.write(unit, [RowResult(row=r, status="failed", error=f"boom {r}") if r in failed
                            else ok_result(layout, r) for r in unit])
