"""Which chunks of an array are really stored, and whether they back the rows the metadata declares.

Metadata costs a few bytes to inflate (a shape of 10^12 rows); stored chunks cost what they
hold. Before a reader allocates anything sized by the row count it lists the chunk keys of the
record arrays that a writer always stores (all of them from format 1.1, `records/id` before)
through the dataset's fsspec filesystem, and refuses a dataset whose chunks do not cover its
rows. On stores that cannot list (HTTP) each expected key is checked in turn (the last one
first), stopping at the first that is missing.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from inrzoo.store.storage import Location, StoreError

PARTIAL_SUFFIX = ".partial"  # zarr's LocalStore writes chunks to KEY.<uuid>.partial, then renames
_EXISTS_BATCH = 64


def chunk_key(path: str, index: int, trailing_ndim: int) -> str:
    """The key of chunk `index` along the rows (trailing axes are one chunk each)."""
    return f"{path}/c/{index}" + "/0" * trailing_ndim


def chunk_count(rows: int, unit_rows: int) -> int:
    return math.ceil(rows / unit_rows)


@dataclass
class StoredChunks:
    """The keys found under one array's chunk prefix."""

    indices: set[int] = field(default_factory=set)  # chunks of the grid that are stored
    stray: list[str] = field(default_factory=list)  # keys that are no chunk of the grid
    partial: list[str] = field(default_factory=list)  # leftovers of interrupted local writes


def classify_keys(keys: list[str], path: str, trailing_ndim: int, count: int) -> StoredChunks:
    pattern = re.compile(re.escape(path) + r"/c/(0|[1-9][0-9]{0,15})" + "/0" * trailing_ndim)
    found = StoredChunks()
    for key in keys:
        match = pattern.fullmatch(key)
        if match and int(match.group(1)) < count:
            found.indices.add(int(match.group(1)))
        elif key.endswith(PARTIAL_SUFFIX):
            found.partial.append(key)
        else:
            found.stray.append(key)
    return found


def can_list(location: Location) -> bool:
    """fsspec's HTTP filesystem 'lists' by scraping index pages: never trust it."""
    return location.protocol not in ("http", "https")


def stored_chunks(location: Location, path: str, trailing_ndim: int, count: int) -> StoredChunks:
    """The stored chunks of one array (one listing of its chunk prefix through fsspec)."""
    prefix = location.key(f"{path}/c")
    location.fs.invalidate_cache(prefix)
    try:
        found = location.fs.find(prefix, withdirs=False)
    except FileNotFoundError:
        found = []
    strip = location.path.rstrip("/") + "/"
    return classify_keys([key[len(strip):] for key in found if key.startswith(strip)], path, trailing_ndim, count)


def first_missing(location: Location, path: str, trailing_ndim: int, indices: range) -> int | None:
    """The first chunk index in `indices` that is not stored, by existence checks in batches."""
    from inrzoo.store.schema import concurrently

    for start in range(indices.start, indices.stop, _EXISTS_BATCH):
        batch = range(start, min(start + _EXISTS_BATCH, indices.stop))
        found = concurrently([lambda i=i: location.exists(chunk_key(path, i, trailing_ndim)) for i in batch])
        for index, exists in zip(batch, found):
            if not exists:
                return index
    return None


def check_backed(location: Location, arrays: dict[str, int], rows: int, unit_rows: int) -> None:
    """Every array in {path: trailing ndim} must store every chunk covering rows [0, rows)."""
    count = chunk_count(rows, unit_rows)
    if count == 0:
        return
    for path, ndim in arrays.items():
        if can_list(location):
            found = stored_chunks(location, path, ndim, count)
            # The first index not stored, found in at most len(indices) + 1 steps (count may be huge).
            missing = None if len(found.indices) == count else next(i for i in range(count) if i not in found.indices)
            stored = len(found.indices)
        else:
            # The last chunk first: a row count inflated in the metadata fails after one request.
            missing = first_missing(location, path, ndim, range(count - 1, count))
            if missing is None:
                missing = first_missing(location, path, ndim, range(count - 1))
            stored = None
        if missing is not None:
            held = f"stores {stored} of the {count} chunks" if stored is not None else f"lacks chunk {missing}"
            raise StoreError(
                f"{location.uri}: array {path!r} {held} that its {rows} declared rows need (first missing: chunk "
                f"{missing}, rows {missing * unit_rows}:{min((missing + 1) * unit_rows, rows)}); the metadata claims "
                f"rows that the dataset does not hold"
            )
