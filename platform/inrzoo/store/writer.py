"""WeightWriter: create a dataset from a listing, fill it from many workers, resume, append, finalize.

Concurrency rule (docs/format.md, "Writing"): the creator writes all metadata and the pending
records; afterwards every worker owns whole write units (`work_units()`, aligned to the chunk,
or to the shard when sharding) and rewrites every array of its unit and nothing else. Group
attributes change only in `create`, `append` and `finalize`, which run in one process while
no worker writes.
"""

from __future__ import annotations

import getpass
import math
import platform
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import numpy as np
import zarr

import inrzoo
from inrzoo.store.layout import (
    COLUMNS,
    FORMAT_NAME,
    FORMAT_VERSION,
    ROOT_ATTR,
    STATUS_CODES,
    aligned_units,
    check_dtype,
    check_unit,
    codec_config,
    encode_params,
)
from inrzoo.store.records import RowResult, apply_result, label_names_of, listing_columns
from inrzoo.store.schema import (
    ArchLayout,
    create_arch_group,
    create_record_arrays,
    dataset_rows,
    open_arch_group,
    open_record_arrays,
    open_root,
    read_all,
    spec_key,
    write_all,
)
from inrzoo.store.storage import Location, StoreError


class WeightWriter:
    """Write access to one dataset. Build with `WeightWriter.create` or `WeightWriter.open`."""

    def __init__(self, location: Location):
        self.location = location
        self.uri = location.uri
        self._load()

    def _load(self) -> None:
        self.root, self.attrs = open_root(self.location, mode="r+")
        self.num_rows = dataset_rows(self.root, self.uri)
        self.records = open_record_arrays(self.root, self.num_rows, self.uri)
        self.groups = [open_arch_group(self.root, g, self.num_rows, self.uri) for g in range(len(self.attrs["archs"]))]
        self.unit_rows = int(self.attrs["layout"]["unit_rows"])
        self.dtype = self.attrs["layout"]["dtype"]
        self._group_of = {group.layout.key: group.index for group in self.groups}

    # --- construction ----------------------------------------------------------------------------
    @classmethod
    def create(cls, uri: str, listing: Sequence[Any], archs: Sequence[Any], *, dtype: str = "float32",
               chunk_rows: int | None = None, shard_rows: int | None = None, codec: str = "blosc", level: int = 5,
               init_seed: int | None = None, config: dict | None = None, collection: dict | None = None,
               label_names: Sequence[str] | None = None, storage_options: dict | None = None,
               overwrite: bool = False) -> "WeightWriter":
        """A new dataset with one pending row per listing item and one group per architecture.

        chunk_rows: rows per chunk (default: about 1 MiB of the largest parameter, 8..256
        rows); every object-store request then carries many INRs. The write unit is the chunk
        (or the shard with shard_rows). codec: blosc (zstd with byte shuffle, the smallest in
        benchmarks/store_size.py), zstd, gzip or none.
        archs: the architectures rows may end up in (an escalation ladder: all its rungs);
        ArchSpec, its JSON, or ArchLayout. config: the resolved sampler/loss/fit configs and
        budget; collection: the source collection (name, root, licences).
        """
        check_dtype(dtype)
        codec_config(codec, level, 4)  # an unknown codec fails before anything is written
        layouts = [ArchLayout.from_spec(a) for a in archs]
        if not layouts:
            raise ValueError(f"{uri}: a dataset needs at least one architecture")
        if len({layout.key for layout in layouts}) != len(layouts):
            raise ValueError(f"{uri}: the same architecture is listed twice")
        chunk_rows = chunk_rows or default_chunk_rows(layouts, dtype)
        if chunk_rows < 1 or (shard_rows is not None and (shard_rows < chunk_rows or shard_rows % chunk_rows)):
            raise ValueError(f"{uri}: shard_rows ({shard_rows}) must be a positive multiple of chunk_rows ({chunk_rows})")
        location = Location(uri, storage_options, read_only=False)
        if not overwrite and location.exists("zarr.json"):
            raise StoreError(f"{uri}: a dataset already exists here (pass overwrite=True to replace it)")
        if overwrite:
            location.remove()
        names = list(label_names) if label_names is not None else label_names_of(listing)
        rows = len(listing)
        unit_rows = shard_rows or chunk_rows
        attrs = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "created": {"at": _now(), "by": f"inrzoo {inrzoo.__version__}", "host": platform.node(), "user": _user()},
            "collection": collection or {},
            "config": config or {},
            "init_seed": init_seed,
            "label_names": names,
            "archs": [{"group": f"arch/{i}", "label": _label(layout)} for i, layout in enumerate(layouts)],
            "layout": {"dtype": dtype, "chunk_rows": chunk_rows, "shard_rows": shard_rows, "unit_rows": unit_rows,
                       "codec": codec, "level": level},
            "finalized": None,
        }
        root = zarr.open_group(store=location.zarr_store(), mode="w", zarr_format=3, attributes={ROOT_ATTR: attrs})
        create_record_arrays(root, rows, chunk_rows, shard_rows)
        for index, layout in enumerate(layouts):
            create_arch_group(root, index, layout, rows, chunk_rows, shard_rows, dtype, codec, level, init_seed)
        writer = cls(location)
        writer._write_listing(0, listing)
        return writer

    @classmethod
    def open(cls, uri: str, storage_options: dict | None = None) -> "WeightWriter":
        """An existing dataset, for workers and for resume; writes no metadata."""
        return cls(Location(uri, storage_options, read_only=False))

    # --- work units ------------------------------------------------------------------------------
    def regions(self) -> list[range]:
        """All write units of the dataset: aligned, disjoint row ranges covering every row."""
        return aligned_units(self.num_rows, self.unit_rows)

    def pending_rows(self) -> np.ndarray:
        return np.flatnonzero(self.records["status"][:] == STATUS_CODES["pending"])

    def work_units(self, pending_only: bool = True) -> list[range]:
        """The units that still hold pending rows (or all units). List them once, in the
        coordinator, and hand each to one worker: a list taken later differs as rows complete."""
        if not pending_only:
            return self.regions()
        pending = set((self.pending_rows() // self.unit_rows).tolist())
        return [unit for unit in self.regions() if unit.start // self.unit_rows in pending]

    # --- writing -----------------------------------------------------------------------------
    def group_index(self, arch: Any) -> int:
        if arch is None:
            if len(self.groups) != 1:
                raise ValueError(f"{self.uri}: the dataset has {len(self.groups)} architectures; name the one of each row")
            return 0
        if isinstance(arch, (int, np.integer)):
            if not 0 <= arch < len(self.groups):
                raise ValueError(f"{self.uri}: no architecture group {arch}")
            return int(arch)
        key = spec_key(arch)
        if key not in self._group_of:
            raise ValueError(f"{self.uri}: architecture {key} was not declared when the dataset was created")
        return self._group_of[key]

    def write(self, unit: range, results: Sequence[RowResult]) -> None:
        """Write the results of rows inside `unit`; other rows of the unit keep their content.

        The whole unit of every array is rewritten (parameters first, records last, status as
        the very last array), so a concurrent reader never sees status ok without parameters.
        """
        check_unit(unit, self.num_rows, self.unit_rows, self.uri)
        start, stop = unit.start, unit.stop
        by_row = {}
        for result in results:
            if result.row not in unit:
                raise ValueError(f"{self.uri}: row {result.row} is outside the unit {start}:{stop}")
            by_row[result.row] = result
        region = slice(start, stop)
        cols = dict(zip(self.records, read_all(list(self.records.values()), region)))
        old_arch = cols["arch"].copy()
        new_groups = {}
        for row, result in by_row.items():
            group = self.group_index(result.arch) if result.status == "ok" else -1
            if result.status == "ok" and result.params is None:
                raise ValueError(f"{self.uri}: row {row} has status ok but no parameters")
            new_groups[row] = group
            apply_result(cols, row - start, result, group)
        fresh = np.zeros(stop - start, dtype=bool)
        fresh[[row - start for row in by_row]] = True
        blocks = []
        for group in self.groups:
            if np.any(old_arch == group.index) or group.index in new_groups.values():
                blocks += self._param_blocks(group, region, by_row, fresh, old_arch, cols["arch"])
        # Each stage is one concurrent round of requests; status goes last.
        write_all(blocks, region)
        write_all([(self.records[name], cols[name]) for name in COLUMNS if name != "status"], region)
        write_all([(self.records["status"], cols["status"])], region)

    def _param_blocks(self, group, region, by_row, fresh, old_arch, new_arch) -> list:
        start, stop = region.start, region.stop
        keep_old = np.any((old_arch == group.index) & ~fresh)
        arrays = list(group.arrays.values())
        old = read_all(arrays, region) if keep_old else [None] * len(arrays)
        blocks = []
        for (name, arr), block in zip(group.arrays.items(), old):
            shape = group.layout.param_shapes[name]
            block = np.zeros((stop - start, *shape), dtype=arr.dtype) if block is None else block
            block[new_arch != group.index] = 0  # rows now elsewhere (or failed) hold the fill value
            for row, result in by_row.items():
                if new_arch[row - start] != group.index:
                    continue
                value = np.asarray(_as_numpy(result.params.get(name) if result.params else None, name, row, self.uri))
                if value.shape != shape:
                    raise ValueError(f"{self.uri}: row {row} parameter {name} has shape {value.shape}, expected {shape}")
                block[row - start] = encode_params(value, group.dtype)
            blocks.append((arr, block))
        return blocks

    # --- growing and closing ---------------------------------------------------------------------
    def append(self, listing: Sequence[Any]) -> range:
        """Add pending rows for `listing` at the end; returns their row range. Run while no worker writes."""
        old, new = self.num_rows, self.num_rows + len(listing)
        names = list(self.attrs["label_names"])
        for label in label_names_of(listing):
            if label not in names:
                names.append(label)
        for arr in [*self.records.values(), *(a for g in self.groups for a in g.arrays.values())]:
            arr.resize((new, *arr.shape[1:]))
        self.attrs["label_names"] = names
        self.root.attrs[ROOT_ATTR] = self.attrs
        self._load()
        self._write_listing(old, listing)
        return range(old, new)

    def _write_listing(self, start: int, listing: Sequence[Any]) -> None:
        cols = listing_columns(listing, self.attrs["label_names"])
        write_all([(self.records[name], cols[name]) for name in self.records], slice(start, start + len(listing)))

    def finalize(self, **card_fields: Any) -> dict:
        """Write statistics into the root attributes and the dataset card (README.md); returns the statistics."""
        from inrzoo.store.card import dataset_statistics, render_card

        stats = dataset_statistics(self)
        self.attrs["finalized"] = {"at": _now(), "statistics": stats}
        self.root.attrs[ROOT_ATTR] = self.attrs
        self.location.write_text("README.md", render_card(self, stats, **card_fields))
        return stats


def default_chunk_rows(layouts: Sequence[ArchLayout], dtype: str, target_bytes: int = 1024 * 1024) -> int:
    """A power of two in [8, 256] rows giving chunks of about target_bytes for the largest tensor."""
    itemsize = 4 if dtype == "float32" else 2
    largest = max(math.prod(shape) for layout in layouts for shape in layout.param_shapes.values()) * itemsize
    rows = 2 ** max(0, int(math.log2(max(target_bytes // largest, 1))))
    return int(min(max(rows, 8), 256))


def create_weights(uri: str, listing: Sequence[Any], archs: Sequence[Any], **options: Any) -> WeightWriter:
    """Create a dataset (see WeightWriter.create) and return its writer."""
    return WeightWriter.create(uri, listing, archs, **options)


def _as_numpy(value: Any, name: str, row: int, uri: str) -> np.ndarray:
    if value is None:
        raise ValueError(f"{uri}: row {row} lacks parameter {name}")
    if hasattr(value, "detach"):
        value = value.detach().cpu().float().numpy()
    return np.asarray(value, dtype=np.float32)


def _label(layout: ArchLayout) -> str:
    spec = layout.arch_spec()
    return spec["name"] if isinstance(spec, dict) else spec.label


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return ""
