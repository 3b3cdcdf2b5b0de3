"""The on-store layout of an inrzoo weight dataset (docs/format.md is the normative text).

Everything a reader needs to know about names, data types, codes and codecs lives here, so
the writer, the reader and the spec cannot drift apart:

    <root>/zarr.json              root group; attributes["inrzoo"] = dataset attributes
    <root>/README.md              dataset card (written at finalize)
    <root>/records/<column>       one array per record column, leading axis = rows
    <root>/arch/<g>/zarr.json     one group per architecture; attributes["inrzoo_arch"]
    <root>/arch/<g>/<param name>  one array per parameter tensor, [rows, *shape]
    <root>/arch/<g>/const/<name>  fixed (untrained) tensors of the architecture, e.g. B
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FORMAT_NAME = "inrzoo-weights"
FORMAT_VERSION = "1.1"
SUPPORTED_MAJOR = 1
# 1.1 added checksums written with the data: a crc32c codec at the end of every array's codec
# chain and records/param_crc32 binding each ok row's parameters to their row.
CHECKSUMS_SINCE = (1, 1)

# Bounds a reader enforces before it allocates (docs/format.md, "Limits"). Chosen: far above what
# inrzoo writes (chunks of about 1 MiB, 8..256 rows) and far below what a machine can hold.
MAX_ROWS = 2**40
MAX_CHUNK_ROWS = 65536
MAX_CHUNK_BYTES = 256 * 1024 * 1024  # decoded bytes of one chunk
MAX_STRING_BYTES = 65536  # UTF-8 bytes of one record string
MAX_ERROR_CHARS = 4096  # writers shorten longer error texts
MAX_ARCHS = 32767  # records/arch is int16

ROOT_ATTR = "inrzoo"
ARCH_ATTR = "inrzoo_arch"
RECORDS = "records"
ARCH = "arch"
CONST = "const"
CARD = "README.md"

# Status codes of records/status. Pending rows are the ones a resumed writer still has to fill.
STATUS_CODES = {"pending": 0, "ok": 1, "failed": 2, "rejected": 3}
STATUS_NAMES = {code: name for name, code in STATUS_CODES.items()}


def status_code(name: str) -> int:
    if name not in STATUS_CODES:
        raise ValueError(f"unknown status {name!r}; expected one of {sorted(STATUS_CODES)}")
    return STATUS_CODES[name]


@dataclass(frozen=True)
class Column:
    """One record column: zarr data type, trailing shape after the row axis, fill value."""

    dtype: str
    trailing: tuple[int, ...] = ()
    fill: object = None
    since: tuple[int, int] = (1, 0)  # the format version that introduced the column

    @property
    def numpy_dtype(self) -> np.dtype:
        return np.dtype(object) if self.dtype == "string" else np.dtype(self.dtype)


NAN = float("nan")
# Numeric metrics are NaN where not computed; steps is -1 where unknown.
METRIC_COLUMNS = ("surface_error", "chamfer", "fscore", "final_loss", "seconds")
COLUMNS: dict[str, Column] = {
    "id": Column("string", fill=""),
    "source_uri": Column("string", fill=""),
    "sha256": Column("string", fill=""),
    "label": Column("int32", fill=-1),
    "split": Column("string", fill=""),
    "transform": Column("float64", (4,), fill=NAN),
    "status": Column("uint8", fill=0),
    "error": Column("string", fill=""),
    "arch": Column("int16", fill=-1),
    "arch_row": Column("int64", fill=-1),
    **{name: Column("float32", fill=NAN) for name in METRIC_COLUMNS},
    "steps": Column("int32", fill=-1),
    "meta": Column("string", fill=""),
    "param_crc32": Column("uint32", fill=0, since=CHECKSUMS_SINCE),
}


def parse_version(text: object) -> tuple[int, int] | None:
    """'1.1' -> (1, 1); None for anything that is not MAJOR.MINOR with small numbers."""
    parts = str(text).split(".")
    if len(parts) != 2 or not all(p.isdigit() and len(p) <= 4 for p in parts):
        return None
    return int(parts[0]), int(parts[1])


def columns_of(version: tuple[int, int]) -> dict[str, Column]:
    """The record columns a dataset of `version` holds (newer minor versions add columns)."""
    return {name: col for name, col in COLUMNS.items() if col.since <= version}


def has_checksums(version: tuple[int, int]) -> bool:
    return version >= CHECKSUMS_SINCE

# Parameter storage types. Zarr v3 has no bfloat16 data type, so bf16 is stored as the raw
# uint16 bit pattern (the upper half of the float32 word) and declared in the group attributes.
STORAGE_DTYPES = {"float32": "float32", "float16": "float16", "bfloat16": "uint16"}


def check_dtype(dtype: str) -> str:
    if dtype not in STORAGE_DTYPES:
        raise ValueError(f"unknown parameter dtype {dtype!r}; expected one of {sorted(STORAGE_DTYPES)}")
    return dtype


def encode_params(values: np.ndarray, dtype: str) -> np.ndarray:
    """float32 values -> the stored array (bf16: round to nearest even, keep the upper 16 bits)."""
    x = np.ascontiguousarray(values, dtype=np.float32)
    if dtype == "float32":
        return x
    if dtype == "float16":
        with np.errstate(over="ignore"):  # overflow to inf is reported by the writer, not warned
            return x.astype(np.float16)
    bits = x.view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    nan = np.isnan(x)
    out = rounded.astype(np.uint16)
    out[nan] = 0x7FC0  # rounding could carry a NaN payload into the infinity pattern
    return out


def decode_params(stored: np.ndarray, dtype: str) -> np.ndarray:
    """The stored array -> float32 values (exact for all three storage types)."""
    if dtype == "bfloat16":
        return (stored.astype(np.uint32) << 16).view(np.float32)
    return stored.astype(np.float32, copy=False)


def codec_config(codec: str, level: int, itemsize: int, checksum: bool = True) -> list:
    """Zarr v3 compressor list for a codec name; blosc shuffles bytes of the element size;
    crc32c (format 1.1) checksums each stored chunk and is decoded first."""
    from zarr.codecs import BloscCodec, Crc32cCodec, GzipCodec, ZstdCodec

    if codec == "zstd":
        compressors = [ZstdCodec(level=level)]
    elif codec == "blosc":
        compressors = [BloscCodec(cname="zstd", clevel=level, shuffle="shuffle", typesize=itemsize)]
    elif codec == "gzip":
        compressors = [GzipCodec(level=level)]
    elif codec == "none":
        compressors = []
    else:
        raise ValueError(f"unknown codec {codec!r}; expected zstd, blosc, gzip or none")
    return compressors + ([Crc32cCodec()] if checksum else [])


def aligned_units(num_rows: int, unit_rows: int) -> list[range]:
    """Row ranges [k*u, min((k+1)*u, n)): the only regions a writer may own."""
    return [range(start, min(start + unit_rows, num_rows)) for start in range(0, num_rows, unit_rows)]


def check_unit(unit: range, num_rows: int, unit_rows: int, where: str) -> None:
    """A unit must start on a boundary and end on one (or at the end of the dataset)."""
    start, stop = unit.start, unit.stop
    if unit.step != 1 or not 0 <= start < stop <= num_rows:
        raise ValueError(f"{where}: rows {start}:{stop} are not a region of the {num_rows} rows")
    if start % unit_rows or (stop % unit_rows and stop != num_rows):
        raise ValueError(
            f"{where}: rows {start}:{stop} are not aligned to the write unit of {unit_rows} rows "
            f"(two writers could share a chunk); use writer.work_units()"
        )


def transform_row(transform: object) -> np.ndarray:
    """A normalization transform (Similarity, dict or 4 numbers) -> [cx, cy, cz, scale]."""
    if transform is None:
        return np.full(4, NAN)
    if hasattr(transform, "to_dict"):
        transform = transform.to_dict()
    if isinstance(transform, dict):
        center = np.asarray(transform["center"], dtype=np.float64).reshape(3)
        return np.array([*center, float(transform["scale"])])
    row = np.asarray(transform, dtype=np.float64).reshape(-1)
    if row.shape != (4,):
        raise ValueError(f"transform must be (center xyz, scale), got {row.tolist()}")
    return row


def transform_dict(row: np.ndarray) -> dict | None:
    if math.isnan(float(row[3])):
        return None
    return {"center": [float(v) for v in row[:3]], "scale": float(row[3])}
