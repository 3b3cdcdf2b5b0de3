"""Bounded decoding: no chunk of a dataset can make a reader allocate more than its checked size.

A few bytes can claim gigabytes: a zstd frame or a blosc header states the decompressed size
and the decoder allocates it up front, gzip inflates without a bound, and a vlen-utf8 buffer
states its item count before numpy allocates one object per item. Arrays opened inside
`bounded_codecs()` decode with subclasses of zarr's codecs (registered through zarr's public
codec registry) that check those claims against the size the chunk's (validated) metadata
allows before decoding, and refuse otherwise. The codec chain itself must be one the format
allows (`check_codecs`).
"""

from __future__ import annotations

import contextlib
import math
import zlib
from collections.abc import Iterator

import numpy as np
import zarr
from zarr.codecs import (
    BloscCodec,
    BytesCodec,
    Crc32cCodec,
    GzipCodec,
    ShardingCodec,
    VLenUTF8Codec,
    ZstdCodec,
)

from inrzoo.store.layout import MAX_CHUNK_BYTES, MAX_STRING_BYTES

COMPRESSORS = (ZstdCodec, BloscCodec, GzipCodec)
_ZSTD_MAGIC = 0xFD2FB528


class ChunkBoundError(ValueError):
    """A chunk whose encoded form claims more decoded bytes than its metadata allows."""


def decoded_limit(chunk_spec) -> int:
    """Bytes one chunk may decode to: exact for numeric types; for variable-length strings
    the item count times the largest string the format allows (capped per chunk)."""
    count = math.prod(chunk_spec.shape)
    native = chunk_spec.dtype.to_native_dtype()
    if native.kind in ("O", "T", "U"):
        return min(4 + count * (4 + MAX_STRING_BYTES), MAX_CHUNK_BYTES)
    return count * native.itemsize


def zstd_content_size(data: bytes) -> int:
    """The Frame_Content_Size of a zstd frame header (RFC 8878, 3.1.1.1); refuses frames
    without one, since their decoded size cannot be known before decoding."""
    if len(data) < 6 or int.from_bytes(data[:4], "little") != _ZSTD_MAGIC:
        raise ChunkBoundError("not a zstd frame (bad magic number)")
    descriptor = data[4]
    fcs_flag, single_segment, dict_flag = descriptor >> 6, (descriptor >> 5) & 1, descriptor & 3
    offset = 5 + (0 if single_segment else 1) + (0, 1, 2, 4)[dict_flag]
    size = (1 if single_segment else 0, 2, 4, 8)[fcs_flag]
    if size == 0:
        raise ChunkBoundError("zstd frame without a content size")
    if len(data) < offset + size:
        raise ChunkBoundError("truncated zstd frame header")
    value = int.from_bytes(data[offset:offset + size], "little")
    return value + 256 if size == 2 else value


def _head(chunk_bytes, n: int) -> bytes:
    """The first n bytes of a chunk buffer (a view: no copy of the whole chunk)."""
    return chunk_bytes.as_numpy_array()[:n].tobytes()


def _check(claimed: int, limit: int, what: str) -> None:
    if claimed > limit:
        raise ChunkBoundError(f"{what} claims {claimed} decoded bytes, the chunk holds at most {limit}")


class BoundedZstd(ZstdCodec):
    def _decode_sync(self, chunk_bytes, chunk_spec):
        _check(zstd_content_size(_head(chunk_bytes, 18)), decoded_limit(chunk_spec), "zstd frame")
        return super()._decode_sync(chunk_bytes, chunk_spec)


class BoundedBlosc(BloscCodec):
    def _decode_sync(self, chunk_bytes, chunk_spec):
        head = _head(chunk_bytes, 16)
        if len(head) < 16:
            raise ChunkBoundError("truncated blosc header")
        _check(int.from_bytes(head[4:8], "little"), decoded_limit(chunk_spec), "blosc header")
        return super()._decode_sync(chunk_bytes, chunk_spec)


class BoundedGzip(GzipCodec):
    def _decode_sync(self, chunk_bytes, chunk_spec):
        limit = decoded_limit(chunk_spec)
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out = inflater.decompress(chunk_bytes.to_bytes(), limit + 1)
        except zlib.error as exc:
            raise ValueError(f"gzip: {exc}") from None
        if len(out) > limit or inflater.unconsumed_tail:
            raise ChunkBoundError(f"gzip stream inflates past the chunk's {limit} bytes")
        return chunk_spec.prototype.buffer.from_bytes(out)


class BoundedVLenUTF8(VLenUTF8Codec):
    def _decode_sync(self, chunk_bytes, chunk_spec):
        head = _head(chunk_bytes, 4)
        count = int.from_bytes(head, "little") if len(head) == 4 else -1
        if count != math.prod(chunk_spec.shape):
            raise ChunkBoundError(f"vlen-utf8 chunk declares {count} strings, the chunk holds "
                                  f"{math.prod(chunk_spec.shape)}")
        return super()._decode_sync(chunk_bytes, chunk_spec)


# zarr accepts string arrays only with a codec class of exactly this name.
BoundedVLenUTF8.__name__ = "VLenUTF8Codec"


def check_codecs(codecs: tuple, checksum: bool, inner: bool = False) -> str | None:
    """None if the chain is one the format allows, else what is wrong with it.

    Allowed: [bytes (little endian) | vlen-utf8] + at most one of zstd/blosc/gzip + crc32c
    (required from format 1.1); or sharding_indexed around such a chain, index [bytes, crc32c?].
    """
    if not codecs:
        return "no codecs"
    first, rest = codecs[0], list(codecs[1:])
    if isinstance(first, ShardingCodec) and not inner:
        if rest:
            return "codecs after sharding_indexed"
        index = list(first.index_codecs)
        if not index or not isinstance(index[0], BytesCodec) or any(not isinstance(c, Crc32cCodec) for c in index[1:]):
            return f"shard index codecs {[c.to_dict()['name'] for c in index]}"
        return check_codecs(first.codecs, checksum, inner=True)
    if isinstance(first, BytesCodec):
        if first.endian is not None and first.endian.value != "little":
            return "big-endian bytes codec"
    elif not isinstance(first, VLenUTF8Codec):
        return f"codec {first.to_dict().get('name')!r} (expected bytes or vlen-utf8 first)"
    compressors = [c for c in rest if isinstance(c, COMPRESSORS)]
    checksums = [c for c in rest if isinstance(c, Crc32cCodec)]
    if len(compressors) + len(checksums) != len(rest):
        names = [c.to_dict().get("name") for c in rest if not isinstance(c, COMPRESSORS + (Crc32cCodec,))]
        return f"codec(s) {names} not allowed by the format"
    if len(compressors) > 1 or len(checksums) > 1 or (checksums and rest[-1] is not checksums[0]):
        return f"codec chain {[c.to_dict().get('name') for c in codecs]} (expected one compressor, then crc32c)"
    if checksum and not checksums:
        return "no crc32c checksum (required from format 1.1)"
    return None


def _register() -> dict[str, str]:
    """Make the bounded codecs known to zarr's codec registry under the standard names."""
    from zarr.registry import fully_qualified_name, register_codec

    names = {"zstd": BoundedZstd, "blosc": BoundedBlosc, "gzip": BoundedGzip, "vlen-utf8": BoundedVLenUTF8}
    for name, cls in names.items():
        register_codec(name, cls)
    return {f"codecs.{name}": fully_qualified_name(cls) for name, cls in names.items()}


_SELECTION = _register()


@contextlib.contextmanager
def bounded_codecs() -> Iterator[None]:
    """Arrays opened inside decode through the bounded codecs (zarr picks a codec's class when
    it parses an array's metadata, from zarr.config's `codecs` section; the choice stays with
    the array). Outside, zarr's own classes are used as before."""
    with zarr.config.set(_SELECTION):
        yield


def chunk_nbytes(shape: tuple[int, ...], dtype: np.dtype) -> int:
    """Decoded bytes of a chunk of `shape` (strings counted at their bound)."""
    count = math.prod(shape)
    if dtype.kind in ("O", "T", "U"):
        return 4 + count * 4
    return count * dtype.itemsize
