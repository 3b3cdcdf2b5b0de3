"""Creating the arrays of a dataset: architecture groups and record columns (opening them,
with every check of the format, is inrzoo.store.access).

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

IO_THREADS = 16  # concurrent array reads/writes of one request (each mostly waits on the store)


@dataclass
class ArchLayout:
    spec: dict
    param_shapes: dict[str, tuple[int, ...]]
    constants: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def from_spec(cls, spec: Any) -> "ArchLayout":
        """From a registered spec (ArchSpec, ClassifierSpec, or its JSON/dict): shapes and
        constants come from inrzoo.inr."""
        from inrzoo.inr import build, spec_from_dict
        from inrzoo.inr.encoding import fourier_matrix

        if isinstance(spec, ArchLayout):
            return spec
        if isinstance(spec, str):
            try:
                spec = json.loads(spec)
            except json.JSONDecodeError as exc:
                raise ValueError(f"architecture spec is not valid JSON ({exc})") from exc
        if isinstance(spec, dict):
            spec = spec_from_dict(spec, source="architecture spec")
        arch = build(spec)
        constants = {}
        if getattr(spec, "encoding", "none") == "fourier":
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
        """The registered spec (ArchSpec, ClassifierSpec), or the plain spec dict for an
        architecture inrzoo.inr does not know."""
        from inrzoo.inr import SPEC_TYPES, spec_from_dict

        if self.spec.get("name") not in SPEC_TYPES:
            return dict(self.spec)
        return spec_from_dict(self.spec, source="dataset architecture")


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


def create_record_arrays(root: zarr.Group, rows: int, chunk_rows: int, shard_rows: int | None) -> dict[str, zarr.Array]:
    arrays = {}
    for name, col in COLUMNS.items():
        dtype = str if col.dtype == "string" else col.dtype
        # zstd level 0 is zarr's default for these columns; crc32c checksums each chunk (format 1.1).
        arrays[name] = root.create_array(
            f"{RECORDS}/{name}", shape=(rows, *col.trailing), dtype=dtype, chunks=(chunk_rows, *col.trailing),
            shards=None if shard_rows is None else (shard_rows, *col.trailing), fill_value=col.fill,
            compressors=codec_config("zstd", 0, col.numpy_dtype.itemsize),
            dimension_names=["row", *["d0"] * len(col.trailing)],
        )
    return arrays


def concurrently(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run blocking zarr calls side by side: each waits on the store (object stores: one round
    trip of latency each), so threads overlap the waits; zarr's public API is thread-safe."""
    if len(calls) <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=min(len(calls), IO_THREADS)) as pool:
        return list(pool.map(lambda call: call(), calls))


def settled(call: Callable[[], Any]) -> Callable[[], Any]:
    """`call`, returning the exception it raises instead of raising it."""
    def run() -> Any:
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - handed back to the caller, which names the array
            return exc

    return run


def _read(array: zarr.Array, selection: Any) -> np.ndarray:
    if isinstance(selection, tuple):
        return np.asarray(array.get_orthogonal_selection(selection))
    return np.asarray(array[selection])


def read_selections(reads: list[tuple[zarr.Array, Any]], settle: bool = False) -> list[Any]:
    """Several (array, selection) reads fetched concurrently; a tuple selection is orthogonal.
    settle: a read that fails gives its exception in its place instead of raising."""
    calls = [lambda a=a, s=s: _read(a, s) for a, s in reads]
    return concurrently([settled(call) for call in calls] if settle else calls)


def read_all(arrays: list[zarr.Array], region: slice) -> list[np.ndarray]:
    """The same rows of several arrays, fetched concurrently."""
    return read_selections([(a, region) for a in arrays])


def write_all(blocks: list[tuple[zarr.Array, np.ndarray]], region: slice) -> None:
    """Write the same rows of several arrays concurrently."""
    concurrently([lambda a=a, v=v: a.__setitem__(region, v) for a, v in blocks])
