"""WeightWriter: create a dataset from a listing, fill it from many workers, resume, append, finalize.

Concurrency rule (docs/format.md, "Writing"): the creator writes all metadata and the pending
records; afterwards every worker owns whole write units (`work_units()`, aligned to the chunk,
or to the shard when sharding) and rewrites every array of its unit and nothing else. Group
attributes change only in `create`, `append` and `finalize`, which run in one process while
no worker writes.

Crash consistency (docs/format.md, section 6): every store operation replaces one object
whole (object stores; zarr writes local files to a temporary name and renames), and the
operations are ordered so that a process killed between any two of them leaves a dataset that
the same conversion resumes: creation is bracketed by a marker object and committed by the
root attributes (inrzoo.store.creation), an append is announced in the root attributes before
arrays grow, and a unit's status is written after its parameters and records.
`inrzoo.store.faults` names the points in between for crash tests.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from inrzoo.store import faults
from inrzoo.store.access import (
    check_records_backed,
    dataset_rows,
    open_arch_group,
    open_record_arrays,
    open_root,
    read_region,
)
from inrzoo.store.creation import CREATING, IncompleteDatasetError, create_dataset, now
from inrzoo.store.integrity import encoded_params, row_crc32
from inrzoo.store.layout import RECORDS, ROOT_ATTR, STATUS_CODES, aligned_units, check_unit
from inrzoo.store.records import RowResult, apply_result, label_names_of, listing_columns
from inrzoo.store.schema import spec_key, write_all
from inrzoo.store.storage import Location

logger = logging.getLogger(__name__)

class WeightWriter:
    """Write access to one dataset. Build with `WeightWriter.create` or `WeightWriter.open`."""

    def __init__(self, location: Location):
        self.location = location
        self.uri = location.uri
        if location.exists(CREATING):
            raise IncompleteDatasetError(f"{self.uri}: the creation of this dataset did not finish "
                                         f"({CREATING} is present); create it again")
        self._load()

    def _load(self) -> None:
        self.root, self.attrs, self.info = open_root(self.location, mode="r+")
        self.num_rows = dataset_rows(self.root, self.info)
        self.records = open_record_arrays(self.root, self.info, self.num_rows, writing=True)
        self.groups = [open_arch_group(self.root, g, self.info, self.num_rows, writing=True)
                       for g in range(self.info.num_archs)]
        if self.info.appending:  # committed rows only, until `append` completes
            self.num_rows = self.info.appending["from"]
        self.unit_rows = self.info.unit_rows
        self.dtype = self.info.dtype
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
        budget; collection: the source collection (name, root, licences). Both are stored
        with secrets redacted (inrzoo.redact).
        A folder that holds only an interrupted creation is replaced; any other content
        needs overwrite=True.
        """
        location = create_dataset(uri, listing, archs, dtype=dtype, chunk_rows=chunk_rows, shard_rows=shard_rows,
                                  codec=codec, level=level, init_seed=init_seed, config=config, collection=collection,
                                  label_names=label_names, storage_options=storage_options, overwrite=overwrite)
        return cls(location)

    @classmethod
    def open(cls, uri: str, storage_options: dict | None = None) -> "WeightWriter":
        """An existing dataset, for workers and for resume; writes no metadata."""
        return cls(Location(uri, storage_options, read_only=False))

    def check_backed(self) -> None:
        """The stored record chunks cover the rows (a coordinator's check before resuming)."""
        check_records_backed(self.location, self.info, self.records, self.num_rows)

    def column(self, name: str, rows: slice | None = None) -> np.ndarray:
        """One record column over `rows` (default: every committed row), read with checks."""
        region = rows or slice(0, self.num_rows)
        return read_region({f"{RECORDS}/{name}": self.records[name]}, region, self.uri)[f"{RECORDS}/{name}"]

    # --- work units ------------------------------------------------------------------------------
    def regions(self) -> list[range]:
        """All write units of the dataset: aligned, disjoint row ranges covering every row."""
        return aligned_units(self.num_rows, self.unit_rows)

    def pending_rows(self) -> np.ndarray:
        return np.flatnonzero(self.column("status") == STATUS_CODES["pending"])

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

        The whole unit of every array is rewritten (parameters first, records next, status as
        the very last array), so a concurrent reader never sees status ok without parameters
        and a writer killed half way leaves the unit's rows pending. An ok result whose
        parameters are not finite in the storage precision is stored as a failed row.
        """
        check_unit(unit, self.num_rows, self.unit_rows, self.uri)
        start, stop = unit.start, unit.stop
        by_row = {}
        for result in results:
            if result.row not in unit:
                raise ValueError(f"{self.uri}: row {result.row} is outside the unit {start}:{stop}")
            by_row[result.row] = result
        region = slice(start, stop)
        read = read_region({name: arr for name, arr in self.records.items()}, region, self.uri)
        cols = dict(read)
        old_arch = cols["arch"].copy()
        encoded: dict[int, tuple[int, dict[str, np.ndarray]]] = {}
        for row, result in by_row.items():
            group = self.group_index(result.arch) if result.status == "ok" else -1
            if result.status == "ok":
                if result.params is None:
                    raise ValueError(f"{self.uri}: row {row} has status ok but no parameters")
                values, problem = encoded_params(result.params, self.groups[group].layout.param_shapes, self.dtype,
                                                 row, self.uri)
                if problem:
                    logger.warning("%s: row %d not stored as ok: %s", self.uri, row, problem)
                    result = _as_failed(result, f"{problem}; the parameters were not stored")
                    group = -1
                else:
                    encoded[row] = (group, values)
            apply_result(cols, row - start, result, group)
        fresh = np.zeros(stop - start, dtype=bool)
        fresh[[row - start for row in by_row]] = True
        blocks = []
        for group in self.groups:
            if np.any(old_arch == group.index) or any(g == group.index for g, _ in encoded.values()):
                blocks += self._param_blocks(group, region, encoded, fresh, old_arch, cols["arch"])
        if "param_crc32" in cols:
            for row in by_row:
                entry = encoded.get(row)
                cols["param_crc32"][row - start] = 0 if entry is None else row_crc32(row, list(entry[1].values()))
        # Each stage is one concurrent round of requests; status goes last.
        write_all(blocks, region)
        faults.point("write:params")
        write_all([(self.records[name], cols[name]) for name in self.records if name != "status"], region)
        faults.point("write:records")
        write_all([(self.records["status"], cols["status"])], region)
        faults.point("write:status")

    def _param_blocks(self, group, region, encoded, fresh, old_arch, new_arch) -> list:
        start, stop = region.start, region.stop
        keep_old = np.any((old_arch == group.index) & ~fresh)
        paths = {f"arch/{group.index}/{name}": arr for name, arr in group.arrays.items()}
        old = list(read_region(paths, region, self.uri).values()) if keep_old else [None] * len(paths)
        blocks = []
        for (name, arr), block in zip(group.arrays.items(), old):
            shape = group.layout.param_shapes[name]
            block = np.zeros((stop - start, *shape), dtype=arr.dtype) if block is None else block
            block[new_arch != group.index] = 0  # rows now elsewhere (or failed) hold the fill value
            for row, (g, values) in encoded.items():
                if g == group.index:
                    block[row - start] = values[name]
            blocks.append((arr, block))
        return blocks

    # --- growing and closing ---------------------------------------------------------------------
    def append(self, listing: Sequence[Any]) -> range:
        """Add pending rows for `listing` at the end; returns their row range. Run while no worker
        writes. An append that was interrupted is completed from where it started (with this
        listing of the rows after the committed ones)."""
        old = self.num_rows
        new = old + len(listing)
        names = list(self.attrs["label_names"])
        names += [label for label in label_names_of(listing) if label not in names]
        listed = listing_columns(listing, names, self.uri)
        self.attrs.update(label_names=names, appending={"from": old, "rows": new})
        self.root.attrs[ROOT_ATTR] = self.attrs
        faults.point("append:marker")
        status = self.records["status"]
        for arr in [*(a for n, a in self.records.items() if n != "status"), *(a for g in self.groups
                                                                              for a in g.arrays.values())]:
            arr.resize((new, *arr.shape[1:]))
        faults.point("append:resized")
        write_all([(self.records[n], listed[n]) for n in self.records if n != "status"], slice(old, new))
        faults.point("append:listing")
        status.resize((new,))
        write_all([(status, listed["status"])], slice(old, new))
        self.attrs["appending"] = None
        self.root.attrs[ROOT_ATTR] = self.attrs
        self._load()
        return range(old, new)

    def finalize(self, **card_fields: Any) -> dict:
        """Write statistics into the root attributes and the dataset card (README.md); returns the statistics."""
        from inrzoo.store.card import dataset_statistics, render_card

        stats = dataset_statistics(self)
        self.attrs["finalized"] = {"at": now(), "statistics": stats}
        self.root.attrs[ROOT_ATTR] = self.attrs
        faults.point("finalize:attributes")
        self.location.write_text("README.md", render_card(self, stats, **card_fields))
        faults.point("finalize:card")
        return stats


def _as_failed(result: RowResult, error: str) -> RowResult:
    return RowResult(row=result.row, status="failed", error=error, metrics=result.metrics, transform=result.transform,
                     sha256=result.sha256, meta=result.meta)


def create_weights(uri: str, listing: Sequence[Any], archs: Sequence[Any], **options: Any) -> WeightWriter:
    """Create a dataset (see WeightWriter.create) and return its writer."""
    return WeightWriter.create(uri, listing, archs, **options)


