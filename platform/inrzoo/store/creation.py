"""Creating a weight dataset, crash-consistently (docs/format.md, section 6).

The creator writes the marker object CREATING first, then the root group without attributes,
every array and the pending records of the listing, and last the root attributes, which
commit the dataset; then it removes the marker. A root that still holds the marker is an
interrupted creation: it holds no rows, and creating again replaces it.
"""

from __future__ import annotations

import getpass
import json
import math
import platform
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import zarr

import inrzoo
from inrzoo.redact import redact
from inrzoo.store import faults
from inrzoo.store.layout import FORMAT_NAME, FORMAT_VERSION, MAX_CHUNK_ROWS, ROOT_ATTR, check_dtype, codec_config
from inrzoo.store.records import label_names_of, listing_columns
from inrzoo.store.schema import ArchLayout, create_arch_group, create_record_arrays, write_all
from inrzoo.store.storage import Location, StoreError

CREATING = ".inrzoo-creating"  # present while a creation has not committed


class IncompleteDatasetError(StoreError):
    """A dataset whose creation never committed: it holds no rows and may be created again."""


def create_dataset(uri: str, listing: Sequence[Any], archs: Sequence[Any], *, dtype: str, chunk_rows: int | None,
                   shard_rows: int | None, codec: str, level: int, init_seed: int | None, config: dict | None,
                   collection: dict | None, label_names: Sequence[str] | None, storage_options: dict | None,
                   overwrite: bool) -> Location:
    """Write a new dataset (see WeightWriter.create for the arguments); returns its location.
    Every argument is checked before anything is written."""
    check_dtype(dtype)
    codec_config(codec, level, 4)  # an unknown codec fails before anything is written
    layouts = [ArchLayout.from_spec(a) for a in archs]
    if not layouts:
        raise ValueError(f"{uri}: a dataset needs at least one architecture")
    if len({layout.key for layout in layouts}) != len(layouts):
        raise ValueError(f"{uri}: the same architecture is listed twice")
    chunk_rows = chunk_rows or default_chunk_rows(layouts, dtype)
    if not 1 <= chunk_rows <= MAX_CHUNK_ROWS:
        raise ValueError(f"{uri}: chunk_rows ({chunk_rows}) must be in 1..{MAX_CHUNK_ROWS}")
    if shard_rows is not None and (shard_rows < chunk_rows or shard_rows % chunk_rows):
        raise ValueError(f"{uri}: shard_rows ({shard_rows}) must be a positive multiple of chunk_rows ({chunk_rows})")
    names = list(label_names) if label_names is not None else label_names_of(listing)
    listed = listing_columns(listing, names, uri)  # refuses bad ids before anything is written
    location = Location(uri, storage_options, read_only=False)
    clear_for_create(location, overwrite)
    location.write_text(CREATING, json.dumps({"at": now(), "by": f"inrzoo {inrzoo.__version__}"}))
    faults.point("create:marker")
    rows = len(listing)
    attrs = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "created": {"at": now(), "by": f"inrzoo {inrzoo.__version__}", "host": platform.node(), "user": _user()},
        "collection": redact(collection or {}),
        "config": redact(config or {}),
        "init_seed": init_seed,
        "label_names": names,
        "archs": [{"group": f"arch/{i}", "label": _label(layout)} for i, layout in enumerate(layouts)],
        "layout": {"dtype": dtype, "chunk_rows": chunk_rows, "shard_rows": shard_rows,
                   "unit_rows": shard_rows or chunk_rows, "codec": codec, "level": level},
        "finalized": None,
        "appending": None,
    }
    # The root's attributes are written last: they commit the creation.
    root = zarr.open_group(store=location.zarr_store(), mode="a", zarr_format=3)
    faults.point("create:root")
    records = create_record_arrays(root, rows, chunk_rows, shard_rows)
    faults.point("create:arrays")
    for index, layout in enumerate(layouts):
        create_arch_group(root, index, layout, rows, chunk_rows, shard_rows, dtype, codec, level, init_seed)
    write_all([(records[name].with_config({"write_empty_chunks": True}), listed[name]) for name in records],
              slice(0, rows))
    faults.point("create:listing")
    root.attrs[ROOT_ATTR] = attrs
    faults.point("create:commit")
    location.fs.rm(location.key(CREATING))
    return location


def clear_for_create(location: Location, overwrite: bool) -> None:
    """Make room for a new dataset: replace an interrupted creation (or anything, with overwrite);
    refuse a folder that holds a dataset or other content."""
    if overwrite or location.exists(CREATING):
        location.remove()
        return
    if location.exists("zarr.json"):
        raise StoreError(f"{location.uri}: a dataset already exists here (pass overwrite=True to replace it)")
    if location.fs.exists(location.path) and location.fs.ls(location.path):
        raise StoreError(f"{location.uri}: the folder is not empty and holds no dataset; "
                         "write to a new location (or pass overwrite=True to delete its content)")


def default_chunk_rows(layouts: Sequence[ArchLayout], dtype: str, target_bytes: int = 1024 * 1024) -> int:
    """A power of two in [8, 256] rows giving chunks of about target_bytes for the largest tensor."""
    itemsize = 4 if dtype == "float32" else 2
    largest = max(math.prod(shape) for layout in layouts for shape in layout.param_shapes.values()) * itemsize
    rows = 2 ** max(0, int(math.log2(max(target_bytes // largest, 1))))
    return int(min(max(rows, 8), 256))


def _label(layout: ArchLayout) -> str:
    spec = layout.arch_spec()
    return spec["name"] if isinstance(spec, dict) else spec.label


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return ""
