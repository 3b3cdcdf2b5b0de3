"""`verify`: read every chunk of a dataset and check it against its checksums and the format.

What it checks, in order (docs/format.md, "Integrity"):
1. everything opening checks (metadata against itself and the format, stored record chunks
   backing the declared rows) and the record values (status codes, indices, labels, meta);
2. per array: the stored chunk keys (chunks the format requires must be there: every record
   chunk from 1.1, the id chunks before, and from 1.1 every parameter chunk holding an ok row; keys
   outside the chunk grid are reported), and every stored chunk decodes, its crc32c checksum
   included (format 1.1);
3. per ok row: its parameters match records/param_crc32 (1.1) and are finite.

It decodes a few chunks at a time (BATCH), so its memory stays that of a few chunks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from inrzoo.store.access import read_region
from inrzoo.store.chunks import can_list, chunk_count, chunk_key, stored_chunks
from inrzoo.store.layout import RECORDS, STATUS_CODES
from inrzoo.store.schema import concurrently, read_selections
from inrzoo.store.records import record_meta
from inrzoo.store.storage import Location, StoreError

MAX_PROBLEMS = 100
BATCH = 16  # chunks decoded concurrently: memory stays that of a few chunks


@dataclass
class VerifyReport:
    uri: str
    version: str = ""
    rows: int = 0
    chunks_read: int = 0
    ok_rows_checked: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    more_problems: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)
        else:
            self.more_problems += 1

    def summary(self) -> str:
        head = "ok" if self.ok else f"{len(self.problems) + self.more_problems} problem(s)"
        return (f"{self.uri}: {head}; format {self.version}, {self.rows} rows, {self.chunks_read} chunks read, "
                f"{self.ok_rows_checked} ok rows checked in {self.seconds:.1f}s")


def verify(uri: str, storage_options: dict | None = None) -> VerifyReport:
    """Check a whole dataset; problems are collected (never raised), each naming array and rows."""
    from inrzoo.store.reader import WeightDataset

    started = time.perf_counter()
    report = VerifyReport(uri=uri.rstrip("/"))
    try:
        dataset = WeightDataset(Location(uri, storage_options, read_only=True), torch_dtype=None)
    except StoreError as exc:
        report.problem(str(exc))
        report.seconds = time.perf_counter() - started
        return report
    report.version, report.rows = dataset.attrs["format_version"], dataset.num_rows
    try:
        cols = dataset.columns
        for row, text in enumerate(cols["meta"]):  # parsed per record when read; here all at once
            record_meta(text, row, dataset.uri)
    except StoreError as exc:
        report.problem(str(exc))
        cols = None
    for name, array in dataset.records.items():
        required = dataset.info.checksums or name == "id"
        _check_array(dataset, f"{RECORDS}/{name}", array, report, _all_chunks if required else None)
    for group in dataset.groups:
        # From 1.1 writers store every parameter chunk they write (zeros too); 1.0 ones did not.
        holds = _chunks_with_ok_rows(dataset, group.index, cols) if cols is not None and dataset.info.checksums else None
        for name, array in group.arrays.items():
            _check_array(dataset, f"arch/{group.index}/{name}", array, report, holds)
        if cols is not None:
            _check_ok_rows(dataset, group.index, report)
    report.seconds = time.perf_counter() - started
    return report


def _all_chunks(count: int) -> set[int]:
    return set(range(count))


def _chunks_with_ok_rows(dataset: Any, group: int, cols: dict[str, np.ndarray]):
    ok = (cols["status"] == STATUS_CODES["ok"]) & (cols["arch"] == group)
    chunks = set((cols["arch_row"][ok] // dataset.info.unit_rows).tolist())
    return lambda count: chunks


def _check_array(dataset: Any, path: str, array: Any, report: VerifyReport, required) -> None:
    """Stored keys against the chunk grid, then every stored chunk decoded on its own."""
    unit = dataset.info.unit_rows
    rows = array.shape[0]
    count = chunk_count(rows, unit)
    ndim = array.ndim - 1
    location = dataset.location
    if can_list(location):
        found = stored_chunks(location, path, ndim, count)
        present = found.indices
        for key in found.stray[:5]:
            report.problem(f"{dataset.uri}: array {path!r} holds {key!r}, which is no chunk of its grid")
        if found.partial:
            report.notes.append(f"{path}: {len(found.partial)} leftover temporary file(s) of interrupted writes")
    else:
        exists = concurrently([lambda i=i: location.exists(chunk_key(path, i, ndim)) for i in range(count)])
        present = {i for i, there in enumerate(exists) if there}
    for index in sorted((required(count) if required else set()) - present):
        report.problem(f"{dataset.uri}: array {path!r} lacks chunk {index} (rows {index * unit}:"
                       f"{min((index + 1) * unit, rows)}), which the format requires")
    present = sorted(present)
    for start in range(0, len(present), BATCH):
        regions = [slice(i * unit, min((i + 1) * unit, rows)) for i in present[start:start + BATCH]]
        results = read_selections([(array, r) for r in regions], settle=True)
        for region, result in zip(regions, results):
            if isinstance(result, BaseException):  # read it alone again for an error naming array and rows
                try:
                    read_region({path: array}, region, dataset.uri)
                except StoreError as exc:
                    report.problem(str(exc))
        report.chunks_read += len(regions)


def _check_ok_rows(dataset: Any, group: int, report: VerifyReport) -> None:
    """The ok rows of a group, a chunk at a time: row checksums (1.1) and finiteness."""
    owners = dataset._owners_of(group)
    rows = np.flatnonzero(owners >= 0)
    if not rows.size:
        return
    chunks = rows // dataset.info.unit_rows
    for members in np.split(rows, np.flatnonzero(np.diff(chunks)) + 1):
        try:
            with torch.no_grad():
                dataset.read_params(members, group)
            report.ok_rows_checked += len(members)
        except StoreError as exc:
            report.problem(str(exc))
