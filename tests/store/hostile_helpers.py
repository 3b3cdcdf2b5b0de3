"""A small real dataset and the edits a hostile publisher could make to it (shared by the
hostile-input tests, the fuzz test and benchmarks/hostile_inputs.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

import google_crc32c
import numpy as np

import inrzoo
from inrzoo.inr import ArchSpec, build
from inrzoo.store import RowResult

ARCHS = [ArchSpec.default("relu_mlp", hidden=[16] * 3), ArchSpec.default("siren", hidden=[8, 8])]
ROWS = 10


def make_dataset(path: Path, dtype: str = "float32", codec: str = "blosc") -> Path:
    """10 rows, chunks of 4: rows 0-5 relu_mlp, 6-8 siren, row 9 failed; finalized."""
    listing = [{"id": f"s{i}", "uri": f"file:///src/{i}.stl", "label": "ab"[i % 2], "split": "train"} for i in range(ROWS)]
    writer = inrzoo.create_weights(str(path), listing, ARCHS, chunk_rows=4, dtype=dtype, codec=codec, init_seed=0)
    for unit in writer.regions():
        writer.write(unit, [row_result(r) for r in unit])
    writer.finalize()
    return path


def row_result(row: int) -> RowResult:
    if row == ROWS - 1:
        return RowResult(row=row, status="failed", error="synthetic failure")
    spec = ARCHS[0] if row < 6 else ARCHS[1]
    params = build(spec).init_params(row)
    return RowResult(row=row, params=params, arch=spec, metrics={"surface_error": 1e-3, "steps": 5},
                     transform={"center": [0, 0, 0], "scale": 1.0})


def expected_params(row: int) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in row_result(row).params.items()}


def copy_of(base: Path, target: Path) -> Path:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(base, target)
    return target


def edit_json(path: Path, change: Callable[[dict], Any]) -> None:
    meta = json.loads(path.read_text())
    change(meta)
    path.write_text(json.dumps(meta))


def arch_attrs(meta: dict) -> dict:
    return meta["attributes"]["inrzoo_arch"]


def chunk_files(array_dir: Path) -> list[Path]:
    return sorted(p for p in (array_dir / "c").rglob("*") if p.is_file())


def rewrite_chunk(path: Path, change: Callable[[bytes], bytes]) -> None:
    """Change the bytes inside a chunk's crc32c envelope and seal it again with a valid checksum
    (what a deliberate attacker does; corruption leaves the checksum wrong)."""
    inner = change(path.read_bytes()[:-4])
    path.write_bytes(inner + np.uint32(google_crc32c.value(inner)).tobytes())


def zstd_bomb_header(claimed: int) -> bytes:
    """A zstd frame header announcing `claimed` decoded bytes (8-byte content size field)."""
    return (0xFD2FB528).to_bytes(4, "little") + bytes([0xE0]) + claimed.to_bytes(8, "little") + b"\0" * 8


def set_all_rows(root: Path, rows: int) -> None:
    """Declare `rows` rows in every array of the dataset (a consistent lie in the metadata)."""
    for meta in root.rglob("zarr.json"):
        if meta.parent.name != "const" and meta.parent.parent.name != "const":
            data = json.loads(meta.read_text())
            if data.get("node_type") == "array" and meta.parent.parent.name != "const":
                data["shape"][0] = rows
                meta.write_text(json.dumps(data))
