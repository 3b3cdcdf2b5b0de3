"""WeightDataset: lazy, filtered read access to a weight dataset on any fsspec store.

Opening reads the metadata (root and group zarr.json files, checked against the format) and,
to apply filters, the record columns (small: a few bytes per row); parameters are read per
request, all arrays of one request fetched concurrently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from inrzoo.store.frames import batch_to_inr_frame, to_source_frame
from inrzoo.store.layout import STATUS_CODES, decode_params
from inrzoo.store.records import Record, record_at
from inrzoo.store.schema import (
    ArchGroup,
    dataset_rows,
    open_arch_group,
    open_record_arrays,
    open_root,
    read_selections,
    spec_key,
)
from inrzoo.store.storage import Location


def open_weights(uri: str, storage_options: dict | None = None, *, split: Any = None, label: Any = None,
                 status: Any = "ok", arch: Any = None, torch_dtype: torch.dtype | None = torch.float32) -> "WeightDataset":
    """Open a dataset read-only. Filters take one value or a list; status=None keeps every row.

    torch_dtype: parameters are returned in this dtype (None keeps the stored precision;
    bfloat16 storage then comes back as torch.bfloat16).
    """
    dataset = WeightDataset(Location(uri, storage_options, read_only=True), torch_dtype=torch_dtype)
    return dataset.filter(split=split, label=label, status=status, arch=arch)


class WeightDataset:
    def __init__(self, location: Location, torch_dtype: torch.dtype | None = torch.float32):
        self.location = location
        self.uri = location.uri
        self.torch_dtype = torch_dtype
        self.root, self.attrs = open_root(location, mode="r")
        self.num_rows = dataset_rows(self.root, self.uri)
        self.records = open_record_arrays(self.root, self.num_rows, self.uri)
        self.groups: list[ArchGroup] = [open_arch_group(self.root, g, self.num_rows, self.uri)
                                        for g in range(len(self.attrs["archs"]))]
        self.label_names: list[str] = list(self.attrs["label_names"])
        self.rows = np.arange(self.num_rows)
        self._columns: dict[str, np.ndarray] | None = None

    # --- records and filters -------------------------------------------------------------------
    @property
    def columns(self) -> dict[str, np.ndarray]:
        """All record columns of the whole dataset (read once, shared by filtered views)."""
        if self._columns is None:
            names = list(self.records)
            values = read_selections([(self.records[n], slice(None)) for n in names])
            self._columns = dict(zip(names, values))
        return self._columns

    def filter(self, *, split: Any = None, label: Any = None, status: Any = None, arch: Any = None) -> "WeightDataset":
        """A view with the rows that match every given filter (this view's rows stay as they are)."""
        keep = np.ones(len(self.rows), dtype=bool)
        cols = self.columns if any(v is not None for v in (split, label, status, arch)) else None
        if split is not None:
            keep &= np.isin(cols["split"][self.rows], _as_list(split))
        if label is not None:
            codes = [v if isinstance(v, (int, np.integer)) else self._label_code(v) for v in _as_list(label)]
            keep &= np.isin(cols["label"][self.rows], codes)
        if status is not None:
            codes = [STATUS_CODES[s] if s in STATUS_CODES else _bad_status(s, self.uri) for s in _as_list(status)]
            keep &= np.isin(cols["status"][self.rows], codes)
        if arch is not None:
            keep &= cols["arch"][self.rows] == self._group_of(arch)
        return self.select(self.rows[keep])

    def select(self, rows: Sequence[int] | np.ndarray) -> "WeightDataset":
        """A view holding exactly the dataset rows `rows`, in this order (rows, not positions)."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        if rows.size and (rows.min() < 0 or rows.max() >= self.num_rows):
            raise IndexError(f"{self.uri}: rows must lie in [0, {self.num_rows}), got {rows.min()}..{rows.max()}")
        view = object.__new__(WeightDataset)
        view.__dict__.update(self.__dict__)
        view.rows = rows
        return view

    def fit_config(self) -> dict[str, Any]:
        """The fit settings the INRs were trained with (the `fit` section of the conversion config:
        arch, loss {name, delta, ...}, optimizer, batch size...); {} for datasets written without one."""
        return dict((self.attrs.get("config") or {}).get("fit") or {})

    def field(self) -> str:
        """What the INRs represent: "sdf", "udf" or "occupancy" (from the conversion config)."""
        config = self.attrs.get("config") or {}
        return str(config.get("field") or (config.get("pairing") or {}).get("field") or "sdf")

    def digest(self) -> str:
        """Content digest over what decides the dataset (config, source hashes, ids, statuses);
        conversions and training runs log it as the dataset's lineage."""
        from inrzoo.store.digest import content_digest

        cols = self.columns
        return content_digest(self.attrs.get("config") or {}, cols["id"], cols["sha256"], cols["status"])

    def _label_code(self, name: str) -> int:
        if name not in self.label_names:
            raise KeyError(f"{self.uri}: no label {name!r}; labels are {self.label_names}")
        return self.label_names.index(name)

    def _group_of(self, arch: Any) -> int:
        if isinstance(arch, (int, np.integer)):
            return int(arch)
        key = spec_key(arch)
        for group in self.groups:
            if group.layout.key == key:
                return group.index
        raise KeyError(f"{self.uri}: architecture {key} is not in the dataset")

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int | slice | Sequence[int]) -> Record | list[Record]:
        if isinstance(index, (int, np.integer)):
            return self.get_records([int(index)])[0]
        if isinstance(index, slice):
            return self.get_records(range(len(self))[index])
        return self.get_records(index)

    def get_records(self, indices: Sequence[int], with_params: bool = True) -> list[Record]:
        """Records at positions of this view; parameters read in one batched request per group."""
        positions = [_position(int(i), len(self), self.uri) for i in indices]
        rows = self.rows[positions] if positions else np.zeros(0, dtype=np.int64)
        cols = self.columns
        records = [record_at(cols, int(r), int(r), self.label_names) for r in rows]
        groups = cols["arch"][rows]
        for g in np.unique(groups):
            if g < 0:
                continue
            members = np.flatnonzero(groups == g)
            params = self.read_params(cols["arch_row"][rows[members]], int(g)) if with_params else None
            for k, m in enumerate(members):
                records[m].arch = self.arch_spec(int(g))
                if params is not None:
                    records[m].params = {name: value[k] for name, value in params.items()}
        return records

    # --- parameters -----------------------------------------------------------------------------
    def arch_spec(self, group: int = 0):
        return self.groups[group].layout.arch_spec()

    def architecture(self, group: int = 0):
        from inrzoo.inr import build

        return build(self.arch_spec(group))

    def read_params(self, group_rows: Sequence[int] | np.ndarray, group: int = 0) -> dict[str, torch.Tensor]:
        """Parameters of `group_rows` (rows inside architecture group `group`) as [K, ...] tensors."""
        g = self.groups[group]
        rows = np.asarray(group_rows, dtype=np.int64)
        if rows.size and np.all(np.diff(rows) == 1):
            selection: Any = slice(int(rows[0]), int(rows[-1]) + 1)
        else:
            selection = (rows,)
        values = read_selections([(arr, selection) for arr in g.arrays.values()]) if rows.size else [
            np.zeros((0, *s), arr.dtype) for s, arr in zip(g.layout.param_shapes.values(), g.arrays.values())]
        return {name: self._to_torch(np.asarray(v), g.dtype) for name, v in zip(g.arrays, values)}

    def _to_torch(self, stored: np.ndarray, dtype: str) -> torch.Tensor:
        if self.torch_dtype is None and dtype == "bfloat16":
            return torch.from_numpy(stored.view(np.int16).copy()).view(torch.bfloat16)
        tensor = torch.from_numpy(decode_params(stored, dtype).copy())
        if self.torch_dtype is None:
            return tensor.to(torch.float16) if dtype == "float16" else tensor
        return tensor.to(self.torch_dtype)

    def group_rows(self, indices: Sequence[int]) -> tuple[int, np.ndarray]:
        """(group, rows inside it) for view positions that must all share one architecture."""
        rows = self.rows[[_position(int(i), len(self), self.uri) for i in indices]]
        groups = np.unique(self.columns["arch"][rows])
        if len(groups) != 1 or groups[0] < 0:
            raise ValueError(f"{self.uri}: the requested rows span architectures {groups.tolist()} "
                             f"(-1 = not fitted); filter by arch= or status='ok' first")
        return int(groups[0]), self.columns["arch_row"][rows]

    # --- evaluation ---------------------------------------------------------------------------
    def evaluate(self, indices: Sequence[int], points: Any, *, frame: str = "normalized",
                 chunk_points: int = 65536) -> torch.Tensor:
        """f at points for several INRs at once: points [N, 3] (shared) or [K, N, 3] -> [K, N].

        frame="original": points are in each shape's source frame and are brought into the INR's
        frame first (the row's augmentation scaling, then its normalization: inrzoo.store.frames);
        values are the INR's output either way.
        """
        group, group_rows = self.group_rows(indices)
        arch = self.architecture(group)
        params = {k: v.float() for k, v in self.read_params(group_rows, group).items()}
        x = torch.as_tensor(points, dtype=torch.float32)
        x = x.expand(len(group_rows), *x.shape) if x.dim() == 2 else x
        if frame == "original":
            records = self.get_records(indices, with_params=False)
            x = batch_to_inr_frame(x, [r.transform for r in records], [r.meta for r in records])
        elif frame != "normalized":
            raise ValueError(f"frame must be 'normalized' or 'original', got {frame!r}")
        with torch.no_grad():
            parts = [arch.forward(params, x[:, s:s + chunk_points]) for s in range(0, x.shape[1], chunk_points)]
        return torch.cat(parts, dim=1)

    def module(self, index: int) -> torch.nn.Module:
        """One INR as an nn.Module mapping normalized points [N, 3] -> [N]."""
        record = self[index]
        if record.params is None:
            raise ValueError(f"{self.uri}: row {record.row} ({record.id}) has no parameters (status {record.status})")
        return self.architecture(int(self.columns["arch"][record.row])).as_module(
            {k: v.float() for k, v in record.params.items()})

    def extract_mesh(self, index: int, resolution: int = 128, level: float = 0.0):
        """Marching cubes of one INR, returned in the source shape's frame (trimesh.Trimesh)."""
        from inrzoo.geometry import extract_mesh

        record = self[index]
        module = self.module(index)

        def field(points):
            with torch.no_grad():
                return module(torch.as_tensor(points, dtype=torch.float32)).numpy()

        mesh = extract_mesh(field, resolution, level=level)
        mesh.vertices = to_source_frame(mesh.vertices, record.transform, record.meta)
        return mesh

    def loader(self, batch_size: int = 64, **options: Any):
        """A torch DataLoader of stacked parameters with labels (see inrzoo.store.torch_data)."""
        from inrzoo.store.torch_data import weight_loader

        return weight_loader(self, batch_size=batch_size, **options)

    def __repr__(self) -> str:
        return f"WeightDataset({self.uri!r}, rows={len(self)}/{self.num_rows}, archs={[a['label'] for a in self.attrs['archs']]})"


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple, set, np.ndarray)) else [value]


def _position(i: int, n: int, uri: str) -> int:
    if not -n <= i < n:
        raise IndexError(f"{uri}: index {i} out of range for {n} rows")
    return i % n


def _bad_status(status: Any, uri: str) -> int:
    raise ValueError(f"{uri}: unknown status filter {status!r}; expected one of {sorted(STATUS_CODES)}")
