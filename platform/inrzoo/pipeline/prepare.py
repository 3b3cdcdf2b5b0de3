"""Prepare stage (CPU): one source shape -> normalized training samples, or a recorded failure.

Every random draw of a shape comes from a generator seeded by (dataset seed, shape id), so the
samples of a shape are the same whichever worker prepares it, in whatever order, and on a
resumed run. A shape that cannot be read or sampled becomes a failed row with its reason; it
never stops the job.
"""

from __future__ import annotations

import hashlib
import pickle
import time
from dataclasses import dataclass, field
from typing import Any

import fsspec
import numpy as np

from inrzoo import geometry, sampling
from inrzoo.collections.screening import LISTING_ERROR
from inrzoo.pipeline.augment import augment_index, jitter_shape, scale_shape
from inrzoo.pipeline.config import ResolvedConversion, presets_for
from inrzoo.pipeline.retry import StoreUnavailableError, store_name, with_retries


@dataclass
class PreparedShape:
    row: int
    id: str
    status: str  # "ok" (ready to fit) or "failed"
    error: str | None = None
    samples: sampling.Samples | None = None
    surface: np.ndarray | None = None  # surface points in the normalized frame (surface error)
    transform: dict[str, Any] | None = None
    sha256: str | None = None
    seconds: float = 0.0
    stream_seed: int = 0
    meta: dict[str, Any] = field(default_factory=dict)  # kept in the row's meta (augment_scale)


def pack(prepared: list[PreparedShape]) -> bytes:
    """A unit's prepared shapes as one bytes value, the form in which they travel from a prepare
    task to a fitting actor: Arrow stores bytes as they are, whereas a column of these
    dataclasses has no Arrow type (Ray Data warned, then pickled them anyway). Protocol 5 keeps
    the sample arrays' buffers whole. Only the conversion's own prepare tasks make these bytes."""
    return pickle.dumps(prepared, protocol=5)


def unpack(data: bytes) -> list[PreparedShape]:
    return pickle.loads(data)


def shape_seed(seed: int, shape_id: str) -> int:
    """A 63-bit seed for one shape: stable across processes, orders and re-runs."""
    digest = hashlib.sha256(f"{seed}:{shape_id}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def read_source(uri: str, conv: ResolvedConversion) -> bytes:
    """The source file's bytes (refused unread above source.max_file_bytes); a store that does
    not answer stops the unit (rows stay pending)."""
    src, runtime = conv.config.source, conv.config.runtime

    def read() -> bytes:
        with fsspec.open(uri, "rb", **src.storage_options) as handle:
            size = getattr(handle, "size", None)
            if size is not None and size > src.max_file_bytes:
                raise ValueError(f"{uri}: {size} bytes exceed source.max_file_bytes={src.max_file_bytes}")
            data = handle.read(src.max_file_bytes + 1)
        if len(data) > src.max_file_bytes:
            raise ValueError(f"{uri}: more than source.max_file_bytes={src.max_file_bytes} bytes")
        return data

    return with_retries(read, f"read {uri}", store_name(uri, src.storage_options), runtime.store_retries,
                        runtime.store_backoff_s)


def prepare_shape(ref: dict[str, Any], row: int, conv: ResolvedConversion) -> PreparedShape:
    """Load, hash, normalize and sample one shape (a ShapeRef as a dict)."""
    cfg = conv.config
    started = time.perf_counter()
    seed = shape_seed(cfg.seed, ref["id"])
    try:
        if (ref.get("meta") or {}).get(LISTING_ERROR):  # found unreadable when listed: never read
            raise ValueError(ref["meta"][LISTING_ERROR])
        data = read_source(ref["uri"], conv)
        sha = hashlib.sha256(data).hexdigest()
        normalized, transform, meta, rng = row_shape(ref, data, conv)
        sampler = sampling.get(conv.sampler_name, **_sampler_fields(conv))
        samples = sampler.sample(normalized, rng)
        surface, _ = geometry.surface_samples(normalized, cfg.eval.surface_points, rng)
        _check_samples(samples, ref["uri"])
    except StoreUnavailableError:
        raise  # not the shape's fault: the unit fails and is retried by the next run
    except Exception as exc:  # any reason a shape cannot be prepared is recorded, not raised
        return PreparedShape(row=row, id=ref["id"], status="failed", error=_reason(exc, ref["uri"]),
                             seconds=time.perf_counter() - started, stream_seed=seed)
    return PreparedShape(
        row=row,
        id=ref["id"],
        status="ok",
        samples=samples,
        surface=np.asarray(surface, dtype=np.float32),
        transform=transform.to_dict(),
        sha256=sha,
        seconds=time.perf_counter() - started,
        stream_seed=seed,
        meta=meta,
    )


def check_kind(kind: str, conv: ResolvedConversion) -> None:
    """A shape whose kind cannot give the preset's field fails naming the presets that fit it."""
    target = conv.target
    if target in ("", "auto") or kind in geometry.kinds_giving(target):
        return
    raise ValueError(f"a {kind} cannot be fitted with preset {conv.config.preset!r} (its {target} field needs a "
                     f"{' or '.join(geometry.kinds_giving(target))}); presets that fit a {kind}: "
                     f"{', '.join(presets_for(kind))}")


def row_shape(ref: dict[str, Any], data: bytes, conv: ResolvedConversion
              ) -> tuple[geometry.Shape, geometry.Similarity, dict[str, Any], np.random.Generator]:
    """The shape a row's INR is fitted to, from the source bytes: parsed, scaled (augmented copies),
    normalized, jittered (copies); with the row's meta and its seeded generator, positioned where
    the sampler starts drawing. Consumers that need the row's own geometry (surface samples for
    a point-cloud model) call this to get exactly the shape the INR saw."""
    cfg = conv.config
    shape = geometry.parse(data, ref["uri"], kind=ref.get("kind") or None, max_faces=cfg.max_faces)
    check_kind(shape.kind, conv)
    rng = np.random.default_rng(shape_seed(cfg.seed, ref["id"]))
    augmented = augment_index(ref) > 0
    meta = {}
    if augmented:
        shape, meta["augment_scale"] = scale_shape(shape, cfg.augment, rng)
    normalized, transform = geometry.normalize(shape, mode=conv.normalize)
    if augmented:
        normalized = jitter_shape(normalized, cfg.augment, rng)
    return normalized, transform, meta, rng


def _sampler_fields(conv: ResolvedConversion) -> dict[str, Any]:
    """The sampler's fields: the config's options plus an explicit field where one is set
    (a shape that cannot give that field then fails with the sampler's reason)."""
    fields = dict(conv.sampler_options)
    if conv.target not in ("", "auto") and "field" not in fields:
        if "field" in getattr(sampling.config_class(conv.sampler_name), "__dataclass_fields__", {}):
            fields["field"] = conv.target
    return fields


def _check_samples(samples: sampling.Samples, uri: str) -> None:
    if len(samples) == 0:
        raise ValueError(f"{uri}: the sampler produced no samples")
    if not (np.isfinite(samples.points).all() and np.isfinite(samples.values).all()):
        raise ValueError(f"{uri}: samples contain NaN or infinite values")


def _reason(exc: Exception, uri: str) -> str:
    from inrzoo.redact import redact_text

    text = str(exc) or type(exc).__name__
    return redact_text(text if uri in text else f"{uri}: {type(exc).__name__}: {text}")
