"""Checks of a dataset's metadata against itself and docs/format.md, before anything is allocated.

A weight dataset is untrusted input: every number a reader sizes memory by (rows, chunk shapes,
parameter shapes) is checked against the others and against the format's limits, and the
declared row count must be backed by chunks that are really stored. Each failure is a
StoreError naming the dataset, the attribute or array, and the row where one is concerned.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import zarr
from zarr.codecs import ShardingCodec
from zarr.core.chunk_grids import RegularChunkGrid
from zarr.core.chunk_key_encodings import DefaultChunkKeyEncoding
from zarr.core.dtype import VariableLengthUTF8

from inrzoo.store.guard import check_codecs, chunk_nbytes
from inrzoo.store.layout import (
    MAX_ARCHS,
    MAX_CHUNK_BYTES,
    MAX_CHUNK_ROWS,
    MAX_ROWS,
    STATUS_CODES,
    STORAGE_DTYPES,
    has_checksums,
    parse_version,
)
from inrzoo.store.storage import StoreError

CODECS = ("blosc", "zstd", "gzip", "none")


@dataclass(frozen=True)
class DatasetInfo:
    """The checked root attributes a reader sizes everything by."""

    uri: str
    version: tuple[int, int]
    label_names: tuple[str, ...]
    num_archs: int
    dtype: str
    chunk_rows: int
    shard_rows: int | None
    appending: dict | None  # {"from": rows before, "rows": rows after} while an append is unfinished

    @property
    def unit_rows(self) -> int:
        return self.shard_rows or self.chunk_rows

    @property
    def checksums(self) -> bool:
        return has_checksums(self.version)

    def rows_allowed(self, rows: int) -> set[int]:
        """Lengths an array may have: the dataset's, or during an append either end of it."""
        if self.appending and rows in (self.appending["from"], self.appending["rows"]):
            return {self.appending["from"], self.appending["rows"]}
        return {rows}


def _int(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def root_info(attrs: dict, uri: str) -> DatasetInfo:
    """The root attributes `inrzoo` checked for type and range (format version checked before)."""

    def need(ok: bool, key: str, what: str) -> None:
        if not ok:
            raise StoreError(f"{uri}: root attribute inrzoo.{key} {what}")

    version = parse_version(attrs.get("format_version"))
    labels, archs, layout = attrs.get("label_names"), attrs.get("archs"), attrs.get("layout")
    need(isinstance(labels, list) and all(isinstance(n, str) for n in labels), "label_names", "must be a list of strings")
    need(isinstance(archs, list) and 1 <= len(archs) <= MAX_ARCHS, "archs", f"must list 1..{MAX_ARCHS} architectures")
    for g, entry in enumerate(archs):
        need(isinstance(entry, dict) and entry.get("group") == f"arch/{g}" and isinstance(entry.get("label"), str),
             f"archs[{g}]", f"must be {{'group': 'arch/{g}', 'label': <text>}}")
    need(isinstance(layout, dict), "layout", "must be an object")
    need(layout.get("dtype") in STORAGE_DTYPES, "layout.dtype", f"must be one of {sorted(STORAGE_DTYPES)}")
    need(layout.get("codec") in CODECS, "layout.codec", f"must be one of {list(CODECS)}")
    chunk_rows, shard_rows = layout.get("chunk_rows"), layout.get("shard_rows")
    need(_int(chunk_rows, 1, MAX_CHUNK_ROWS), "layout.chunk_rows", f"must be an integer in 1..{MAX_CHUNK_ROWS}")
    need(shard_rows is None or (_int(shard_rows, chunk_rows, MAX_CHUNK_ROWS * 1024) and shard_rows % chunk_rows == 0),
         "layout.shard_rows", "must be null or a multiple of chunk_rows")
    need(layout.get("unit_rows") == (shard_rows or chunk_rows), "layout.unit_rows", "must equal shard_rows or chunk_rows")
    appending = attrs.get("appending")
    need(appending is None or (isinstance(appending, dict) and _int(appending.get("from"), 0, MAX_ROWS)
                               and _int(appending.get("rows"), appending.get("from"), MAX_ROWS)),
         "appending", "must be null or {'from': rows, 'rows': rows}")
    return DatasetInfo(uri=uri, version=version, label_names=tuple(labels), num_archs=len(archs),
                       dtype=layout["dtype"], chunk_rows=chunk_rows, shard_rows=shard_rows, appending=appending)


def check_array(array: zarr.Array, path: str, info: DatasetInfo, rows: int, *, dtype: str,
                trailing: tuple[int, ...], fill: Any, rows_allowed: set[int] | None = None) -> None:
    """An array's metadata against the format: data type, shape, chunk grid (rows and trailing
    axes), chunk key encoding, fill value, codec chain and the size of one decoded chunk."""
    meta = array.metadata
    where = f"{info.uri}: array {path!r}"
    if dtype == "string":
        if not isinstance(meta.data_type, VariableLengthUTF8):
            raise StoreError(f"{where} has data type {meta.data_type.to_json(zarr_format=3)!r}, the format says string")
    elif meta.data_type.to_native_dtype() != np.dtype(dtype).newbyteorder("<"):
        raise StoreError(f"{where} has data type {meta.data_type.to_native_dtype()}, the format says {dtype}")
    allowed = rows_allowed or {rows}
    if len(meta.shape) != 1 + len(trailing) or meta.shape[0] not in allowed or tuple(meta.shape[1:]) != trailing:
        raise StoreError(f"{where} has shape {list(meta.shape)}, expected {[rows, *trailing]}")
    outer = (info.unit_rows, *trailing)
    if not isinstance(meta.chunk_grid, RegularChunkGrid) or tuple(meta.chunk_grid.chunk_shape) != outer:
        raise StoreError(f"{where} has chunks {_grid(meta)}, the dataset's layout says {list(outer)}")
    sharding = meta.codecs[0] if meta.codecs and isinstance(meta.codecs[0], ShardingCodec) else None
    if (sharding is not None) != (info.shard_rows is not None) or (
            sharding is not None and tuple(sharding.chunk_shape) != (info.chunk_rows, *trailing)):
        raise StoreError(f"{where}: its sharding does not follow layout.chunk_rows/shard_rows "
                         f"({info.chunk_rows}/{info.shard_rows})")
    if not isinstance(meta.chunk_key_encoding, DefaultChunkKeyEncoding) or meta.chunk_key_encoding.separator != "/":
        raise StoreError(f"{where}: chunk key encoding must be 'default' with separator '/'")
    if meta.storage_transformers:
        raise StoreError(f"{where}: storage transformers are not allowed by the format")
    problem = check_codecs(meta.codecs, info.checksums)
    if problem:
        raise StoreError(f"{where}: {problem}")
    if not _same_fill(meta.fill_value, fill):
        raise StoreError(f"{where} has fill value {meta.fill_value!r}, the format says {fill!r}")
    native = np.dtype(object) if dtype == "string" else np.dtype(dtype)
    decoded = chunk_nbytes((info.chunk_rows, *trailing), native)
    if decoded > MAX_CHUNK_BYTES:
        raise StoreError(f"{where}: one chunk would decode to {decoded} bytes (limit {MAX_CHUNK_BYTES})")


def _grid(meta) -> Any:
    grid = meta.chunk_grid
    return list(grid.chunk_shape) if isinstance(grid, RegularChunkGrid) else type(grid).__name__


def _same_fill(actual: Any, expected: Any) -> bool:
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(actual, (float, np.floating)) and bool(np.isnan(actual))
    try:
        return bool(actual == expected) and type(actual) is not bool
    except (TypeError, ValueError):
        return False


def check_rows(rows: Any, uri: str) -> int:
    if not _int(rows, 0, MAX_ROWS):
        raise StoreError(f"{uri}: records/status declares {rows!r} rows (limit {MAX_ROWS})")
    return rows


def arch_attrs(attrs: Any, uri: str, path: str, info: DatasetInfo) -> dict:
    """The `inrzoo_arch` attributes of an architecture group, checked for type, range and
    agreement with each other and with the dataset's layout."""

    def need(ok: bool, key: str, what: str) -> None:
        if not ok:
            raise StoreError(f"{uri}: group {path!r} attribute inrzoo_arch.{key} {what}")

    need(isinstance(attrs, dict), "", "is missing or not an object")
    order, shapes = attrs.get("param_order"), attrs.get("param_shapes")
    need(isinstance(attrs.get("spec"), dict) and isinstance(attrs["spec"].get("name"), str), "spec",
         "must be an object with a name")
    need(isinstance(order, list) and order and all(isinstance(n, str) and _valid_name(n) for n in order)
         and len(set(order)) == len(order), "param_order", "must list distinct parameter names")
    need(isinstance(shapes, dict) and set(shapes) == set(order), "param_shapes", "must give a shape for exactly "
         "the names of param_order")
    for name in order:
        shape = shapes[name]
        need(isinstance(shape, list) and 1 <= len(shape) <= 4 and all(_int(d, 1, MAX_CHUNK_BYTES) for d in shape),
             f"param_shapes[{name!r}]", "must be 1 to 4 positive integers")
    total = sum(math.prod(shapes[n]) for n in order)
    need(attrs.get("num_params") == total, "num_params", f"must be the sum of the shapes ({total})")
    need(attrs.get("dtype") == info.dtype, "dtype", f"must be the dataset's layout.dtype {info.dtype!r}")
    need(attrs.get("storage_dtype") == STORAGE_DTYPES[info.dtype], "storage_dtype",
         f"must be {STORAGE_DTYPES[info.dtype]!r} for dtype {info.dtype!r}")
    need(attrs.get("init_seed") is None or _int(attrs.get("init_seed"), -(2**63), 2**64), "init_seed",
         "must be an integer or null")
    constants = attrs.get("constants", [])
    need(isinstance(constants, list) and all(c == "fourier_matrix" for c in constants), "constants",
         "may only name 'fourier_matrix'")
    return attrs


def _valid_name(name: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9_.\-]{1,128}", name)) and not name.startswith("__") and name != "const"


def check_known_spec(spec: dict, shapes: dict[str, tuple[int, ...]], uri: str, path: str):
    """For an architecture inrzoo knows: the spec must parse and imply exactly the stored
    parameter names, order and shapes. Returns the parsed spec (None for unknown names)."""
    from inrzoo.config import ConfigError
    from inrzoo.inr import REGISTRY, build, spec_from_dict

    if spec.get("name") not in REGISTRY:
        return None
    try:
        parsed = spec_from_dict(spec, source=f"{uri}: {path} spec")
        implied = build(parsed).param_shapes()
    except (ConfigError, ValueError, TypeError, KeyError) as exc:
        raise StoreError(f"{uri}: group {path!r} has an invalid architecture spec ({exc})") from exc
    if list(implied.items()) != list(shapes.items()):
        diff = [n for n in dict.fromkeys([*implied, *shapes]) if implied.get(n) != shapes.get(n)][:3]
        raise StoreError(f"{uri}: group {path!r}: its spec ({parsed.label}) implies parameters that the stored "
                         f"ones do not match (first differences: "
                         f"{[(n, implied.get(n), shapes.get(n)) for n in diff]})")
    return parsed


def check_record_values(cols: dict[str, np.ndarray], info: DatasetInfo, rows: int, group_rows: list[int]) -> None:
    """Status codes, and for ok rows the architecture index and row, and every label index."""
    uri = info.uri
    status = cols["status"]
    bad = np.flatnonzero(~np.isin(status, list(STATUS_CODES.values())))
    if bad.size:
        raise StoreError(f"{uri}: array 'records/status' row {bad[0]} holds status code {int(status[bad[0]])}, "
                         f"which the format does not define ({bad.size} such rows; codes {STATUS_CODES})")
    ok = status == STATUS_CODES["ok"]
    arch, arch_row = cols["arch"].astype(np.int64), cols["arch_row"]
    bad = np.flatnonzero(ok & ((arch < 0) | (arch >= info.num_archs)))
    if bad.size:
        raise StoreError(f"{uri}: array 'records/arch' row {bad[0]} (status ok) points to architecture group "
                         f"{int(arch[bad[0]])}; the dataset has groups 0..{info.num_archs - 1}")
    limits = np.asarray(group_rows, dtype=np.int64)[np.clip(arch, 0, info.num_archs - 1)]
    bad = np.flatnonzero(ok & ((arch_row < 0) | (arch_row >= limits)))
    if bad.size:
        raise StoreError(f"{uri}: array 'records/arch_row' row {bad[0]} (status ok) points to row "
                         f"{int(arch_row[bad[0]])} of group {int(arch[bad[0]])}, which has {int(limits[bad[0]])} rows")
    keys = arch[ok] * (rows + 1) + arch_row[ok]
    unique, counts = np.unique(keys, return_counts=True)
    if np.any(counts > 1):
        shared = unique[counts > 1][0]
        first = np.flatnonzero(ok)[np.flatnonzero(keys == shared)[:2]]
        raise StoreError(f"{uri}: rows {first.tolist()} (status ok) point to the same parameters "
                         f"(arch {int(shared // (rows + 1))}, row {int(shared % (rows + 1))})")
    label = cols["label"]
    bad = np.flatnonzero((label < -1) | (label >= len(info.label_names)))
    if bad.size:
        raise StoreError(f"{uri}: array 'records/label' row {bad[0]} holds label {int(label[bad[0]])}; "
                         f"label_names has {len(info.label_names)} entries (-1 = none)")
