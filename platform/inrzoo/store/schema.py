"""Creating and verifying the arrays of a dataset: architecture groups and record columns.

`ArchLayout` is what the store needs to know of an architecture: its spec as JSON, the
parameter shapes in canonical order and any fixed tensors (a Fourier matrix). It is built
from an `inrzoo.inr.ArchSpec`, or by hand for formats the library cannot build.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import zarr

from inrzoo.store.layout import (
    ARCH,
    ARCH_ATTR,
    COLUMNS,
    CONST,
    RECORDS,
    STORAGE_DTYPES,
    codec_config,
)
from inrzoo.store.storage import StoreError

IO_THREADS = 16  # concurrent array reads/writes of one request (each mostly waits on the store)


@dataclass
class ArchLayout:
    spec: dict
    param_shapes: dict[str, tuple[int, ...]]
    constants: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def from_spec(cls, spec: Any) -> "ArchLayout":
        """From an ArchSpec (or its JSON/dict): shapes and constants come from inrzoo.inr."""
        from inrzoo.inr import ArchSpec, build
        from inrzoo.inr.encoding import fourier_matrix

        if isinstance(spec, ArchLayout):
            return spec
        if isinstance(spec, str):
            spec = ArchSpec.from_json(spec)
        elif isinstance(spec, dict):
            spec = ArchSpec.from_dict(spec)
        arch = build(spec)
        constants = {}
        if spec.encoding == "fourier":
            constants["fourier_matrix"] = fourier_matrix(spec).numpy().astype(np.float32)
        shapes = {k: tuple(int(d) for d in v) for k, v in arch.param_shapes().items()}
        return cls(spec=json.loads(spec.to_json()), param_shapes=shapes, constants=constants)

    @property
    def key(self) -> str:
        """Canonical JSON of the spec: two layouts are the same architecture iff keys match."""
        return json.dumps(self.spec, sort_keys=True)

    @property
    def num_params(self) -> int:
        return sum(math.prod(s) for s in self.param_shapes.values())

    def arch_spec(self):
        """The ArchSpec, or the plain spec dict for an architecture inrzoo.inr does not know."""
        from inrzoo.inr import REGISTRY, ArchSpec

        if self.spec.get("name") not in REGISTRY:
            return dict(self.spec)
        return ArchSpec.from_dict(self.spec, source="dataset architecture")


def spec_key(arch: Any) -> str:
    """Canonical JSON of an ArchLayout, ArchSpec, spec dict or spec JSON (for matching groups)."""
    if isinstance(arch, ArchLayout):
        return arch.key
    if hasattr(arch, "to_json"):
        arch = arch.to_json()
    if isinstance(arch, str):
        arch = json.loads(arch)
    if not isinstance(arch, dict):
        raise TypeError(f"not an architecture spec: {arch!r}")
    return json.dumps(arch, sort_keys=True)


def group_path(index: int) -> str:
    return f"{ARCH}/{index}"


def create_arch_group(root: zarr.Group, index: int, layout: ArchLayout, rows: int, chunk_rows: int,
                      shard_rows: int | None, dtype: str, codec: str, level: int, init_seed: int | None) -> None:
    stored = np.dtype(STORAGE_DTYPES[dtype])
    for name in layout.param_shapes:
        if "/" in name or name.startswith("__") or name == CONST:
            raise ValueError(f"parameter name {name!r} cannot be a Zarr node name")
    attrs = {
        "spec": layout.spec,
        "param_order": list(layout.param_shapes),
        "param_shapes": {k: list(v) for k, v in layout.param_shapes.items()},
        "num_params": layout.num_params,
        "dtype": dtype,
        "storage_dtype": stored.name,
        "init_seed": init_seed,
        "constants": sorted(layout.constants),
    }
    group = root.create_group(group_path(index), attributes={ARCH_ATTR: attrs})
    for name, shape in layout.param_shapes.items():
        group.create_array(
            name, shape=(rows, *shape), dtype=stored, chunks=(chunk_rows, *shape),
            shards=None if shard_rows is None else (shard_rows, *shape),
            compressors=codec_config(codec, level, stored.itemsize), fill_value=0,
            dimension_names=["row", *[f"d{i}" for i in range(len(shape))]],
        )
    for name, value in layout.constants.items():
        group.create_array(f"{CONST}/{name}", data=np.asarray(value, dtype=np.float32),
                           compressors=codec_config("zstd", 5, 4))


def create_record_arrays(root: zarr.Group, rows: int, chunk_rows: int, shard_rows: int | None) -> None:
    for name, col in COLUMNS.items():
        dtype = str if col.dtype == "string" else col.dtype
        root.create_array(
            f"{RECORDS}/{name}", shape=(rows, *col.trailing), dtype=dtype, chunks=(chunk_rows, *col.trailing),
            shards=None if shard_rows is None else (shard_rows, *col.trailing), fill_value=col.fill,
            dimension_names=["row", *["d0"] * len(col.trailing)],
        )


def _concurrently(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run blocking zarr calls side by side: each waits on the store (object stores: one round
    trip of latency each), so threads overlap the waits; zarr's public API is thread-safe."""
    if len(calls) <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=min(len(calls), IO_THREADS)) as pool:
        return list(pool.map(lambda call: call(), calls))


def _read(array: zarr.Array, selection: Any) -> np.ndarray:
    if isinstance(selection, tuple):
        return np.asarray(array.get_orthogonal_selection(selection))
    return np.asarray(array[selection])


def read_selections(reads: list[tuple[zarr.Array, Any]]) -> list[np.ndarray]:
    """Several (array, selection) reads fetched concurrently; a tuple selection is orthogonal."""
    return _concurrently([lambda a=a, s=s: _read(a, s) for a, s in reads])


def read_all(arrays: list[zarr.Array], region: slice) -> list[np.ndarray]:
    """The same rows of several arrays, fetched concurrently."""
    return read_selections([(a, region) for a in arrays])


def write_all(blocks: list[tuple[zarr.Array, np.ndarray]], region: slice) -> None:
    """Write the same rows of several arrays concurrently."""
    _concurrently([lambda a=a, v=v: a.__setitem__(region, v) for a, v in blocks])


_MISSING = (FileNotFoundError, KeyError, zarr.errors.NodeTypeValidationError, zarr.errors.ArrayNotFoundError)


def open_arrays(root: zarr.Group, wanted: dict[str, tuple[int, ...]], rows: int, uri: str) -> dict[str, zarr.Array]:
    """Open required arrays {path: trailing shape} concurrently (one round trip of latency on
    object stores) and check their shapes; errors name the array and the dataset."""
    mode = "r" if root.read_only else "r+"

    def one(path: str):
        try:
            return zarr.open_array(store=root.store_path / path, zarr_format=3, mode=mode)
        except _MISSING as exc:
            return exc

    arrays = {}
    for (path, trailing), opened in zip(wanted.items(), _concurrently([lambda p=p: one(p) for p in wanted])):
        if isinstance(opened, Exception):
            raise StoreError(f"{uri}: required array {path!r} is missing ({type(opened).__name__})") from opened
        if tuple(opened.shape) != (rows, *trailing):
            raise StoreError(f"{uri}: array {path!r} has shape {tuple(opened.shape)}, expected {(rows, *trailing)}")
        arrays[path] = opened
    return arrays


def open_record_arrays(root: zarr.Group, rows: int, uri: str) -> dict[str, zarr.Array]:
    wanted = {f"{RECORDS}/{name}": col.trailing for name, col in COLUMNS.items()}
    return {path.split("/", 1)[1]: arr for path, arr in open_arrays(root, wanted, rows, uri).items()}


@dataclass
class ArchGroup:
    """An opened architecture group: its attributes, parameter arrays and constants."""

    index: int
    layout: ArchLayout
    dtype: str
    arrays: dict[str, zarr.Array]
    init_seed: int | None


def open_arch_group(root: zarr.Group, index: int, rows: int, uri: str) -> ArchGroup:
    path = group_path(index)
    try:
        group = zarr.open_group(store=root.store_path / path, zarr_format=3, mode="r" if root.read_only else "r+")
    except (FileNotFoundError, KeyError, zarr.errors.GroupNotFoundError, zarr.errors.NodeTypeValidationError) as exc:
        raise StoreError(f"{uri}: architecture group {path!r} is missing ({type(exc).__name__})") from exc
    attrs = group.attrs.get(ARCH_ATTR)
    if not isinstance(attrs, dict):
        raise StoreError(f"{uri}: group {path!r} has no {ARCH_ATTR!r} attributes")
    shapes = {name: tuple(attrs["param_shapes"][name]) for name in attrs["param_order"]}
    opened = open_arrays(root, {f"{path}/{name}": shape for name, shape in shapes.items()}, rows, uri)
    arrays = {name: opened[f"{path}/{name}"] for name in shapes}
    constants = {}
    for name in attrs.get("constants", []):
        arr = zarr.open_array(store=root.store_path / f"{path}/{CONST}/{name}", zarr_format=3, mode="r")
        constants[name] = arr[...]
    layout = ArchLayout(spec=attrs["spec"], param_shapes=shapes, constants=constants)
    return ArchGroup(index=index, layout=layout, dtype=attrs["dtype"], arrays=arrays, init_seed=attrs.get("init_seed"))


def open_root(location, mode: str) -> tuple[zarr.Group, dict]:
    """Open the root group and check that it is an inrzoo dataset of a version we can read."""
    from inrzoo.store.layout import FORMAT_NAME, ROOT_ATTR, SUPPORTED_MAJOR

    uri = location.uri
    try:
        root = zarr.open_group(store=location.zarr_store(), mode=mode, zarr_format=3)
    except (FileNotFoundError, zarr.errors.GroupNotFoundError, zarr.errors.NodeTypeValidationError) as exc:
        raise StoreError(f"{uri}: no Zarr v3 group at the dataset root ({type(exc).__name__}: {exc})") from exc
    attrs = root.attrs.get(ROOT_ATTR)
    if not isinstance(attrs, dict) or attrs.get("format") != FORMAT_NAME:
        raise StoreError(f"{uri}: not an inrzoo weight dataset (root attribute {ROOT_ATTR!r}.format != {FORMAT_NAME!r})")
    version = str(attrs.get("format_version", ""))
    try:
        major = int(version.split(".")[0])
    except ValueError:
        major = -1
    if major != SUPPORTED_MAJOR:
        raise StoreError(
            f"{uri}: format version {version!r} is not supported by this library "
            f"(reads {SUPPORTED_MAJOR}.x; see docs/format.md)"
        )
    return root, attrs


def dataset_rows(root: zarr.Group, uri: str) -> int:
    """The number of rows: the length of records/status, which every other array must share."""
    try:
        arr = zarr.open_array(store=root.store_path / f"{RECORDS}/status", zarr_format=3, mode="r")
    except _MISSING as exc:
        raise StoreError(f"{uri}: required array '{RECORDS}/status' is missing ({type(exc).__name__})") from exc
    return int(arr.shape[0])
