"""Opening a dataset's nodes with every check of `validate` applied, and reading regions of its
arrays with errors that name the dataset, the array and the rows.

Arrays are opened inside `guard.bounded_codecs()`, so no chunk can decode to more than its
validated size. Nothing here allocates memory sized by a declared row count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import zarr

from inrzoo.store.chunks import check_backed
from inrzoo.store.guard import bounded_codecs, check_codecs
from inrzoo.store.layout import (
    ARCH_ATTR,
    CONST,
    FORMAT_NAME,
    MAX_CHUNK_BYTES,
    RECORDS,
    ROOT_ATTR,
    STORAGE_DTYPES,
    SUPPORTED_MAJOR,
    columns_of,
    parse_version,
)
from inrzoo.store.schema import ArchLayout, concurrently, group_path, read_selections, settled
from inrzoo.store.storage import Location, StoreError, is_transient
from inrzoo.store.validate import DatasetInfo, arch_attrs, check_array, check_known_spec, check_rows, root_info

_MISSING = (FileNotFoundError, KeyError, zarr.errors.NodeTypeValidationError, zarr.errors.ArrayNotFoundError,
            zarr.errors.GroupNotFoundError)


@dataclass(frozen=True)
class Expect:
    """What the format says of one array: data type, trailing shape, fill value."""

    dtype: str
    trailing: tuple[int, ...]
    fill: Any


def open_root(location, mode: str) -> tuple[zarr.Group, dict, DatasetInfo]:
    """The root group of an inrzoo dataset of a version this library reads, attributes checked."""
    uri = location.uri
    try:
        root = zarr.open_group(store=location.zarr_store(), mode=mode, zarr_format=3)
        attrs = root.attrs.get(ROOT_ATTR)
    except _MISSING as exc:
        raise StoreError(f"{uri}: no Zarr v3 group at the dataset root ({type(exc).__name__}: {exc})") from exc
    except (ValueError, TypeError) as exc:  # a zarr.json that is no valid group metadata
        raise StoreError(f"{uri}: invalid root zarr.json ({type(exc).__name__}: {exc})") from exc
    if not isinstance(attrs, dict) or attrs.get("format") != FORMAT_NAME:
        raise StoreError(f"{uri}: not an inrzoo weight dataset (root attribute {ROOT_ATTR!r}.format != {FORMAT_NAME!r})")
    version = parse_version(attrs.get("format_version"))
    if version is None or version[0] != SUPPORTED_MAJOR:
        raise StoreError(
            f"{uri}: format version {attrs.get('format_version')!r} is not supported by this library "
            f"(reads {SUPPORTED_MAJOR}.x; see docs/format.md)"
        )
    return root, attrs, root_info(attrs, uri)


def open_arrays(root: zarr.Group, wanted: dict[str, Expect], info: DatasetInfo, rows: int,
                write_empty_chunks: bool = False) -> dict[str, zarr.Array]:
    """Required arrays {path: Expect}, opened concurrently (one round trip of latency on object
    stores) and checked against the format; errors name the array and the dataset.
    write_empty_chunks: writes through these arrays store chunks of fill values too."""
    mode = "r" if root.read_only else "r+"
    calls = [settled(lambda p=p: zarr.open_array(store=root.store_path / p, zarr_format=3, mode=mode)) for p in wanted]
    with bounded_codecs():
        opened_all = concurrently(calls)
    arrays = {}
    for (path, expect), opened in zip(wanted.items(), opened_all):
        if isinstance(opened, _MISSING):
            raise StoreError(f"{info.uri}: required array {path!r} is missing ({type(opened).__name__})") from opened
        if isinstance(opened, Exception):
            raise StoreError(f"{info.uri}: array {path!r} has invalid metadata "
                             f"({type(opened).__name__}: {opened})") from opened
        check_array(opened, path, info, rows, dtype=expect.dtype, trailing=expect.trailing, fill=expect.fill,
                    rows_allowed=info.rows_allowed(rows))
        arrays[path] = opened.with_config({"write_empty_chunks": True}) if write_empty_chunks else opened
    return arrays


def _open_read_only(root: zarr.Group, path: str, uri: str) -> zarr.Array:
    try:
        with bounded_codecs():
            return zarr.open_array(store=root.store_path / path, zarr_format=3, mode="r")
    except _MISSING as exc:
        raise StoreError(f"{uri}: required array {path!r} is missing ({type(exc).__name__})") from exc
    except (ValueError, TypeError) as exc:
        raise StoreError(f"{uri}: array {path!r} has invalid metadata ({exc})") from exc


def dataset_rows(root: zarr.Group, info: DatasetInfo) -> int:
    """The number of rows: the length of records/status, which every other array must share."""
    arr = _open_read_only(root, f"{RECORDS}/status", info.uri)
    if len(arr.shape) != 1:
        raise StoreError(f"{info.uri}: array '{RECORDS}/status' has shape {list(arr.shape)}, expected [rows]")
    return check_rows(int(arr.shape[0]), info.uri)


def open_record_arrays(root: zarr.Group, info: DatasetInfo, rows: int, writing: bool = False) -> dict[str, zarr.Array]:
    """The record columns of the dataset's version; from 1.1 a writer stores every chunk of them
    (so that their stored chunks prove the row count)."""
    wanted = {f"{RECORDS}/{name}": Expect(col.dtype, col.trailing, col.fill) for name, col in columns_of(info.version).items()}
    opened = open_arrays(root, wanted, info, rows, write_empty_chunks=writing and info.checksums)
    return {path.split("/", 1)[1]: arr for path, arr in opened.items()}


def check_records_backed(location: Location, info: DatasetInfo, records: dict[str, zarr.Array], rows: int) -> None:
    """The stored record chunks must cover the declared rows (all columns from 1.1, ids before);
    during an unfinished append only the rows before it."""
    covered = info.appending["from"] if info.appending else rows
    names = list(records) if info.checksums else ["id"]
    check_backed(location, {f"{RECORDS}/{n}": records[n].ndim - 1 for n in names}, covered, info.unit_rows)


@dataclass
class ArchGroup:
    """An opened architecture group: its attributes, parameter arrays and constants."""

    index: int
    layout: ArchLayout
    dtype: str
    arrays: dict[str, zarr.Array]
    init_seed: int | None
    rows: int = 0  # length of its parameter arrays


def open_arch_group(root: zarr.Group, index: int, info: DatasetInfo, rows: int, writing: bool = False) -> ArchGroup:
    """An architecture group checked against the format; from 1.1 a writer stores every
    parameter chunk it writes (zeros included), so verify can require them."""
    path = group_path(index)
    try:
        group = zarr.open_group(store=root.store_path / path, zarr_format=3, mode="r" if root.read_only else "r+")
        attrs = group.attrs.get(ARCH_ATTR)
    except _MISSING as exc:
        raise StoreError(f"{info.uri}: architecture group {path!r} is missing ({type(exc).__name__})") from exc
    except (ValueError, TypeError) as exc:
        raise StoreError(f"{info.uri}: group {path!r} has invalid metadata ({exc})") from exc
    attrs = arch_attrs(attrs, info.uri, path, info)
    shapes = {name: tuple(attrs["param_shapes"][name]) for name in attrs["param_order"]}
    spec = check_known_spec(attrs["spec"], shapes, info.uri, path)
    stored = STORAGE_DTYPES[info.dtype]
    opened = open_arrays(root, {f"{path}/{name}": Expect(stored, shape, 0) for name, shape in shapes.items()}, info, rows,
                         write_empty_chunks=writing and info.checksums)
    arrays = {name: opened[f"{path}/{name}"] for name in shapes}
    constants = _constants(root, path, attrs, spec, info)
    layout = ArchLayout(spec=attrs["spec"], param_shapes=shapes, constants=constants)
    group_rows = next(iter(arrays.values())).shape[0]
    return ArchGroup(index=index, layout=layout, dtype=info.dtype, arrays=arrays, init_seed=attrs.get("init_seed"),
                     rows=int(group_rows))


def _constants(root: zarr.Group, path: str, attrs: dict, spec: Any, info: DatasetInfo) -> dict[str, np.ndarray]:
    """const/ arrays: for a known spec exactly the ones it implies, of the implied shape, equal to
    what the spec regenerates (the library's evaluator regenerates them)."""
    names = list(attrs.get("constants", []))
    if spec is not None:
        implied = ["fourier_matrix"] if getattr(spec, "encoding", None) == "fourier" else []  # classifiers: none
        if sorted(names) != implied:
            raise StoreError(f"{info.uri}: group {path!r} lists constants {names}; its spec implies {implied}")
    constants = {}
    for name in names:
        where = f"{info.uri}: array '{path}/{CONST}/{name}'"
        arr = _open_read_only(root, f"{path}/{CONST}/{name}", info.uri)
        problem = check_codecs(arr.metadata.codecs, info.checksums)
        if problem:
            raise StoreError(f"{where}: {problem}")
        expected = (spec.fourier_features, spec.in_dim) if spec is not None else tuple(arr.shape)
        if arr.dtype != np.float32 or tuple(arr.shape) != expected or math.prod(expected) * 4 > MAX_CHUNK_BYTES:
            raise StoreError(f"{where} is {arr.dtype} {list(arr.shape)}, expected float32 {list(expected)}")
        value = read_region({f"{path}/{CONST}/{name}": arr}, slice(None), info.uri)
        constants[name] = next(iter(value.values()))
        if spec is not None:
            from inrzoo.inr.encoding import fourier_matrix

            if not np.array_equal(constants[name], fourier_matrix(spec).numpy()):
                raise StoreError(f"{where} differs from the matrix that the spec's fourier_seed "
                                 f"{spec.fourier_seed} gives; the dataset is inconsistent")
    return constants


def read_region(arrays: dict[str, zarr.Array], selection: Any, uri: str) -> dict[str, np.ndarray]:
    """The same selection (a row slice, or an array of rows) of several arrays, fetched
    concurrently; a failure names the array and the rows of the chunk that failed."""
    orthogonal = selection if isinstance(selection, slice) or selection is Ellipsis else (np.asarray(selection),)
    results = read_selections([(a, orthogonal) for a in arrays.values()], settle=True)
    for (path, array), result in zip(arrays.items(), results):
        if isinstance(result, BaseException):
            if is_transient(result):  # the store did not answer: the caller's retries decide, not "corrupt"
                raise result
            raise _read_error(array, path, selection, result, uri) from result
    return dict(zip(arrays, results))


def _read_error(array: zarr.Array, path: str, selection: Any, exc: BaseException, uri: str) -> StoreError:
    rows = _failing_rows(array, selection)
    reason = "not enough memory" if isinstance(exc, MemoryError) else f"{type(exc).__name__}: {exc}"
    return StoreError(f"{uri}: array {path!r} rows {rows}: cannot read its data ({reason}); "
                      f"the chunk is corrupt or the dataset is inconsistent")


def _failing_rows(array: zarr.Array, selection: Any) -> str:
    """The rows of the first chunk in the selection that does not decode (one chunk at a time)."""
    n = array.shape[0] if array.ndim else 0
    if not array.ndim or n == 0:
        return "(all)"
    step = array.metadata.chunk_grid.chunk_shape[0]
    if isinstance(selection, slice):
        wanted = range(*selection.indices(n))
    else:
        wanted = sorted(set(int(r) for r in np.asarray(selection).reshape(-1) if 0 <= int(r) < n))
    for start in sorted({r // step * step for r in wanted}):
        stop = min(start + step, n)
        try:
            array[start:stop]
        except Exception:  # noqa: BLE001 - this is the chunk to name
            return f"{start}:{stop}"
    return f"{wanted[0]}:{wanted[-1] + 1}" if len(wanted) else "(none)"
