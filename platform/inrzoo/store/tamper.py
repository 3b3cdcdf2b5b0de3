"""Edits a hostile or careless publisher could make to a weight dataset on local files, for the
tests and benchmarks of the reader's validation (tests/store, benchmarks/hostile_inputs.py).

`sample_dataset` writes a small real dataset to change; the other functions change one thing:
a value in a zarr.json, the bytes inside a chunk's checksum envelope (sealed again, as a
deliberate attacker would), or the row count every array declares.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import numpy as np

SAMPLE_ROWS = 10


def sample_dataset(path: Path, dtype: str = "float32", codec: str = "blosc") -> Path:
    """10 rows in chunks of 4: rows 0-5 relu_mlp 3x16, 6-8 siren 2x8, row 9 failed; finalized."""
    import inrzoo

    listing = [{"id": f"s{i}", "uri": f"file:///src/{i}.stl", "label": "ab"[i % 2], "split": "train"}
               for i in range(SAMPLE_ROWS)]
    writer = inrzoo.create_weights(str(path), listing, sample_archs(), chunk_rows=4, dtype=dtype, codec=codec,
                                   init_seed=0)
    for unit in writer.regions():
        writer.write(unit, [sample_result(r) for r in unit])
    writer.finalize()
    return path


def sample_archs() -> list:
    from inrzoo.inr import ArchSpec

    return [ArchSpec.default("relu_mlp", hidden=[16] * 3), ArchSpec.default("siren", hidden=[8, 8])]


def sample_result(row: int):
    """The RowResult of `sample_dataset` row `row` (parameters: the architecture's init, seed row)."""
    from inrzoo.inr import build
    from inrzoo.store import RowResult

    if row == SAMPLE_ROWS - 1:
        return RowResult(row=row, status="failed", error="synthetic failure")
    spec = sample_archs()[0 if row < 6 else 1]
    return RowResult(row=row, params=build(spec).init_params(row), arch=spec,
                     metrics={"surface_error": 1e-3, "steps": 5}, transform={"center": [0, 0, 0], "scale": 1.0})


def edit_json(path: Path, change: Callable[[dict], Any]) -> None:
    meta = json.loads(path.read_text())
    change(meta)
    path.write_text(json.dumps(meta))


def arch_attrs(meta: dict) -> dict:
    return meta["attributes"]["inrzoo_arch"]


def chunk_files(array_dir: Path) -> list[Path]:
    return sorted(p for p in (array_dir / "c").rglob("*") if p.is_file())


def rewrite_chunk(path: Path, change: Callable[[bytes], bytes]) -> None:
    """Change the bytes inside a chunk's crc32c envelope and seal it again with a valid checksum."""
    import google_crc32c

    inner = change(path.read_bytes()[:-4])
    path.write_bytes(inner + np.uint32(google_crc32c.value(inner)).tobytes())


def zstd_bomb_header(claimed: int) -> bytes:
    """A zstd frame header announcing `claimed` decoded bytes (8-byte content size field)."""
    return (0xFD2FB528).to_bytes(4, "little") + bytes([0xE0]) + claimed.to_bytes(8, "little") + b"\0" * 8


def set_all_rows(root: Path, rows: int) -> None:
    """Declare `rows` rows in every row-indexed array (a consistent lie in the metadata)."""
    for meta in root.rglob("zarr.json"):
        data = json.loads(meta.read_text())
        if data.get("node_type") == "array" and "const" not in meta.parts:
            data["shape"][0] = rows
            meta.write_text(json.dumps(data))


def set_record(root: Path, column: str, row: int, value: Any, chunk_rows: int = 4) -> None:
    """Set one record value through zarr, checksums valid (only the row's chunk is rewritten:
    plain zarr would drop chunks that hold only fill values)."""
    import zarr

    array = zarr.open_array(str(root / "records" / column), mode="r+", zarr_format=3)
    start = row // chunk_rows * chunk_rows
    block = array[start:start + chunk_rows]
    block[row - start] = value
    array[start:start + chunk_rows] = block


def inflate_rows_keeping_last_chunk(root: Path, rows: int, chunk_rows: int = 4) -> None:
    """Declare `rows` rows and copy each record array's last stored chunk to the new last
    position: the chunk a reader probing only the end would find."""
    set_all_rows(root, rows)
    last_index = (rows - 1) // chunk_rows
    for array in (root / "records").iterdir():
        if array.is_dir():
            last = chunk_files(array)[-1]
            target = array / "c" / str(last_index) / "/".join(last.relative_to(array / "c").parts[1:])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(last.read_bytes())
