"""INRs as fields: K rows of one architecture, evaluated with inrzoo.inr's batched forward.

The network's raw output g (the last linear layer, before the spec's output transform) is read
back through the output transform and the fitting loss's `decode` (inrzoo.fit.losses), the same
way surface errors are computed: u = decode(out(g)). Every such map is increasing in g, so the
surface {u = level} is {g = c} for one number c found by bisection on the scalar map, and tracing
marches on +-(g - c):
- sdf: level 0 (tanh(0) = 0 for Davies' MLP); outside where g > c;
- udf (chosen): the surface is rendered as the shell u = SHELL around the zero set;
- occupancy: level 0 of probability - 0.5; inside where g > c, so level() is c - g.
The SAL loss learns a signed field from unsigned data, so its rows are traced as sdf.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from inrzoo.fields import lipschitz as bounds
from inrzoo.fields.base import KINDS, Field, broadcast_points
from inrzoo.inr import ArchSpec, Params, build, select_params

SHELL = 0.005  # chosen: the shell u = SHELL drawn for unsigned distances (normalized units, ~1/400 of the domain)
LIPSCHITZ_MODES = ("estimated", "certified")


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


class INRField(Field):
    """K INRs of one architecture. params: {name: [K, ...]} in canonical order (any float dtype).

    decode: the fitting loss's map from network output to field (identity for L1 fits);
    radius: the ball of the normalization domain (1 for Davies' unit sphere, sqrt(3) for the
    [-1, 1] cube); lipschitz: "estimated" or "certified" (see inrzoo.fields.lipschitz).
    """

    def __init__(self, spec: ArchSpec, params: Params, *, kind: str = "sdf",
                 decode: Callable[[torch.Tensor], torch.Tensor] | None = None, radius: float = 1.0,
                 lipschitz: str = "estimated", names: Sequence[str] | None = None):
        if kind not in KINDS:
            raise ValueError(f"unknown field kind {kind!r}; expected one of {KINDS}")
        if lipschitz not in LIPSCHITZ_MODES:
            raise ValueError(f"unknown Lipschitz mode {lipschitz!r}; expected one of {LIPSCHITZ_MODES}")
        if spec.out_dim != 1:
            raise ValueError(f"{spec.label}: a field needs one output, the architecture has {spec.out_dim}")
        self.spec = spec
        self.arch = build(spec.replace(output="none"))  # raw g; the output transform is applied below
        shapes = self.arch.param_shapes()
        missing = sorted(set(shapes) - set(params))
        if missing:
            raise KeyError(f"{spec.label}: parameters missing {missing}")
        self.params = {name: params[name].detach().to(torch.float32) for name in shapes}
        self.kind = kind
        self.decode = decode or _identity
        self.radius = float(radius)
        self.mode = lipschitz
        self.names = list(names) if names is not None else [f"row {k}" for k in range(self.rows)]
        self._lipschitz: torch.Tensor | None = None
        self._raw_level, self._value_slope = self._calibrate()

    @property
    def rows(self) -> int:
        return int(self.params["output.bias"].shape[0])

    def __repr__(self) -> str:
        return f"INRField({self.spec.label}, {self.kind}, {self.rows} rows)"

    # --- decoding ----------------------------------------------------------------------------------
    def _output(self, g: torch.Tensor) -> torch.Tensor:
        return self.decode(torch.tanh(g) if self.spec.output == "tanh" else g)

    def _calibrate(self) -> tuple[float, float]:
        """(c, max du/dg): the raw value of the surface and the steepest slope of u(g)."""
        grid = torch.linspace(-40.0, 40.0, 160_001, dtype=torch.float64)
        u = self._output(grid)
        if not bool(torch.all(u[1:] >= u[:-1])):
            raise ValueError(f"{self!r}: decoded output is not increasing in the network output")
        target = SHELL if self.kind == "udf" else 0.0
        if not float(u[0]) < target < float(u[-1]):
            raise ValueError(f"{self!r}: the decoded field never reaches its surface value {target} "
                             f"(range {float(u[0]):.4g} .. {float(u[-1]):.4g})")
        low, high = -40.0, 40.0
        for _ in range(80):  # bisection on the scalar map, float64
            mid = 0.5 * (low + high)
            low, high = (mid, high) if float(self._output(torch.tensor(mid, dtype=torch.float64))) < target else (low, mid)
        with torch.enable_grad():
            points = grid.clone().requires_grad_(True)
            (slope,) = torch.autograd.grad(self._output(points).sum(), points)  # du/dg on the grid (0 included)
        return 0.5 * (low + high), float(slope.max())

    # --- evaluation ----------------------------------------------------------------------------------
    def raw(self, points: torch.Tensor) -> torch.Tensor:
        """g at points [K or 1, N, 3] -> [K, N]; one row's points may also be [M, N, 3] (flattened)."""
        if self.rows == 1 and points.dim() == 3 and points.shape[0] > 1:
            return self.arch.forward(self.params, points.reshape(1, -1, 3)).reshape(points.shape[:2])
        return self.arch.forward(self.params, broadcast_points(points, self.rows, self))

    def values(self, points: torch.Tensor) -> torch.Tensor:
        return self._output(self.raw(points))

    def level(self, points: torch.Tensor) -> torch.Tensor:
        g = self.raw(points) - self._raw_level
        return -g if self.kind == "occupancy" else g

    def lipschitz(self) -> torch.Tensor:
        if self._lipschitz is None:
            if self.mode == "certified":
                self._lipschitz = bounds.certified(self.arch, self.params)
            else:
                self._lipschitz = bounds.estimated(self.raw, self.rows, self.radius)
        return self._lipschitz

    def value_lipschitz(self) -> torch.Tensor:
        return self.lipschitz() * self._value_slope

    def select(self, rows: Sequence[int]) -> "INRField":
        rows = [int(r) for r in rows]
        view = object.__new__(INRField)
        view.__dict__.update(self.__dict__)
        view.params = select_params(self.params, rows)
        view.names = [self.names[r] for r in rows]
        view._lipschitz = None if self._lipschitz is None else self._lipschitz[rows]
        return view


# --- from a weight dataset ---------------------------------------------------------------------------
DEFAULT_FIELD = {"mesh": "sdf", "pointcloud": "udf", "voxels": "occupancy"}


def dataset_fields(dataset: Any, positions: Sequence[int], *, kind: str | None = None,
                   lipschitz: str = "estimated") -> list[tuple[list[int], INRField]]:
    """Fields of rows of a WeightDataset, one INRField per (architecture, field kind):
    [(indices into `positions`, field)]. The kind comes from `kind`, else the dataset's target,
    else each row's shape kind; the decode from the dataset's fitting loss."""
    from inrzoo import config as configlib
    from inrzoo.fit import LossConfig, make_loss

    positions = [int(p) for p in positions]
    if not positions:
        raise ValueError(f"{dataset.uri}: no rows to make fields of")
    conversion = dataset.attrs.get("config") or {}
    loss_cfg = configlib.from_dict(LossConfig, dataset.fit_config().get("loss") or {}, source=f"{dataset.uri} fit.loss")
    radius = float(np.sqrt(3.0)) if conversion.get("normalize") == "cube" else 1.0
    records = dataset.get_records(positions, with_params=False)
    groups: dict[tuple[int, str], list[int]] = {}
    for index, record in enumerate(records):
        if record.status != "ok":
            raise ValueError(f"{dataset.uri}: row {record.row} ({record.id}) is {record.status}, it has no INR")
        field = _row_kind(kind, conversion.get("target"), record, loss_cfg.name)
        group = int(dataset.columns["arch"][record.row])
        groups.setdefault((group, field), []).append(index)
    out = []
    for (group, field), members in groups.items():
        _, group_rows = dataset.group_rows([positions[m] for m in members])
        params = dataset.read_params(group_rows, group)
        loss = make_loss(loss_cfg, "udf" if loss_cfg.name == "sal" else field)
        out.append((members, INRField(dataset.arch_spec(group), params, kind=field, radius=radius,
                                      decode=loss.decode, lipschitz=lipschitz,
                                      names=[records[m].id for m in members])))
    return out


def _row_kind(kind: str | None, target: str | None, record: Any, loss: str) -> str:
    if loss == "sal":  # SAL learns a signed field even from unsigned distances
        return "sdf"
    if kind is not None:
        return kind
    if target in KINDS:
        return target
    return DEFAULT_FIELD.get((record.meta or {}).get("kind", "mesh"), "sdf")
