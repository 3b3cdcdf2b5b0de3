"""Row checksums and the finiteness rule: the parameters a reader returns for an ok row are the
ones the writer stored for that row, and finite (docs/format.md, "Integrity").

Format 1.1 stores, per row, `records/param_crc32`: the CRC-32 (zlib, ISO-HDLC polynomial) of the
row's group row index as a little-endian int64 followed by the stored bytes of each parameter in
canonical order. The chunk checksums (crc32c codec) catch corrupt chunks; this one also catches
chunks that are missing (read back as the fill value) or moved to another row.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from inrzoo.store.storage import StoreError


def row_crc32(group_row: int, stored: Sequence[np.ndarray]) -> int:
    """CRC-32 of one row: int64 LE group row, then each parameter's stored bytes (C order, LE)."""
    crc = zlib.crc32(np.int64(group_row).astype("<i8").tobytes())
    for value in stored:
        crc = zlib.crc32(np.ascontiguousarray(value).astype(value.dtype.newbyteorder("<"), copy=False).tobytes(), crc)
    return crc


def block_crc32(group_rows: np.ndarray, blocks: Sequence[np.ndarray]) -> np.ndarray:
    """row_crc32 of every row of stacked blocks ([K, ...] per parameter, canonical order)."""
    return np.array([row_crc32(int(r), [b[k] for b in blocks]) for k, r in enumerate(group_rows)], dtype=np.uint32)


def nonfinite(stored: np.ndarray, dtype: str) -> np.ndarray:
    """Per row of a stored [K, ...] block: does it hold NaN or infinity?"""
    flat = stored.reshape(len(stored), -1)
    if dtype == "bfloat16":  # exponent bits all ones
        return np.any((flat & 0x7F80) == 0x7F80, axis=1)
    return ~np.all(np.isfinite(flat), axis=1)


def check_rows(uri: str, group: int, names: Sequence[str], blocks: Sequence[np.ndarray], dtype: str,
               group_rows: np.ndarray, owners: np.ndarray, crcs: np.ndarray | None) -> None:
    """Check the rows of blocks that belong to ok rows (owners >= 0: their dataset rows).

    crcs: records/param_crc32 of those dataset rows (format 1.1), None before: a 1.0 dataset has
    no row checksums, so an ok row whose parameters are all the fill value 0 is taken for a
    missing chunk instead.
    """
    checked = np.flatnonzero(owners >= 0)
    if checked.size == 0:
        return
    for name, block in zip(names, blocks):
        bad = checked[nonfinite(block[checked], dtype)]
        if bad.size:
            raise StoreError(f"{uri}: array 'arch/{group}/{name}' row {int(group_rows[bad[0]])} holds NaN or infinite "
                             f"values, but its row {int(owners[bad[0]])} has status ok (the format allows only finite "
                             f"parameters in ok rows)")
    if crcs is None:
        zero = np.ones(len(checked), dtype=bool)
        for block in blocks:
            zero &= ~np.any(block[checked].reshape(len(checked), -1) != 0, axis=1)
        if np.any(zero):
            k = checked[np.flatnonzero(zero)[0]]
            raise StoreError(f"{uri}: arrays 'arch/{group}/*' row {int(group_rows[k])}: every parameter of ok row "
                             f"{int(owners[k])} is the fill value 0 (a missing chunk)")
        return
    computed = block_crc32(group_rows[checked], [b[checked] for b in blocks])
    bad = np.flatnonzero(computed != crcs[checked])
    if bad.size:
        k = checked[bad[0]]
        raise StoreError(f"{uri}: arrays 'arch/{group}/*' row {int(group_rows[k])} do not match "
                         f"records/param_crc32 of row {int(owners[k])} (stored {int(crcs[k]):08x}, computed "
                         f"{int(computed[bad[0]]):08x}): a parameter chunk is corrupt, missing or moved")


def encoded_params(params: dict, shapes: dict[str, tuple[int, ...]], dtype: str, row: int,
                   uri: str) -> tuple[dict[str, np.ndarray], str | None]:
    """One row's parameters encoded for storage in canonical order, and the reason it cannot be
    stored as ok (a NaN or infinity, before or after rounding to the storage precision) or None."""
    from inrzoo.store.layout import decode_params, encode_params

    encoded = {}
    for name, shape in shapes.items():
        value = params.get(name) if params else None
        if value is None:
            raise ValueError(f"{uri}: row {row} lacks parameter {name}")
        if hasattr(value, "detach"):
            value = value.detach().cpu().float().numpy()
        value = np.asarray(value, dtype=np.float32)
        if value.shape != shape:
            raise ValueError(f"{uri}: row {row} parameter {name} has shape {value.shape}, expected {shape}")
        encoded[name] = encode_params(value, dtype)
        if not np.all(np.isfinite(value)):
            return encoded, f"parameter {name} holds NaN or infinite values after fitting"
        if not np.all(np.isfinite(decode_params(encoded[name][None], dtype))):
            return encoded, f"parameter {name} overflows {dtype} (largest magnitude {float(np.abs(value).max()):.3g})"
    return encoded, None
