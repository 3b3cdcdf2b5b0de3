"""Create the dataset of a conversion, or reopen it to resume.

A resumed conversion must be the same conversion: the stored resolved config (less the
runtime and tracking sections, which may differ between runs) has to match, and the stored
rows must be the listing's shapes in the same order. New shapes at the end of the listing are
appended as pending rows.
"""

from __future__ import annotations

import json
from typing import Any

from inrzoo import config as configlib
from inrzoo.pipeline.config import ResolvedConversion
from inrzoo.store import StoreError, WeightWriter

# Sections that describe how a run executes, not what it produces.
VOLATILE_KEYS = ("runtime", "tracking")


def fingerprint(resolved_config: dict[str, Any]) -> dict[str, Any]:
    """The part of a resolved config that decides the dataset's content."""
    data = json.loads(json.dumps(resolved_config))
    for key in VOLATILE_KEYS:
        data.pop(key, None)
    data.get("fit", {}).pop("device", None)
    data.get("fit", {}).pop("num_threads", None)
    data.get("output", {}).pop("retry_failed", None)
    return data


def open_or_create(conv: ResolvedConversion, refs: list[dict[str, Any]]) -> WeightWriter:
    out = conv.config.output
    if not refs:
        raise ValueError(f"{conv.config.source.uri}: the collection lists no shapes")
    try:
        writer = WeightWriter.open(out.uri, out.storage_options)
    except StoreError:
        if _exists(out.uri, out.storage_options):
            raise
        return _create(conv, refs)
    _check_same_conversion(writer, conv)
    stored_ids = [str(i) for i in writer.records["id"][:]]
    listed_ids = [ref["id"] for ref in refs]
    if listed_ids[: len(stored_ids)] != stored_ids:
        missing = sorted(set(stored_ids) - set(listed_ids))[:5]
        raise ValueError(
            f"{out.uri}: the dataset holds {len(stored_ids)} shapes that are not the start of the current listing of "
            f"{conv.config.source.uri} (e.g. no longer listed: {missing}); convert into a new dataset"
        )
    if len(listed_ids) > len(stored_ids):
        writer.append(refs[len(stored_ids):])
    return writer


def _create(conv: ResolvedConversion, refs: list[dict[str, Any]]) -> WeightWriter:
    cfg = conv.config
    return WeightWriter.create(
        cfg.output.uri,
        refs,
        [conv.fit.arch, *conv.fit.escalation.ladder],
        dtype=cfg.output.dtype,
        chunk_rows=cfg.output.chunk_rows,
        init_seed=conv.fit.seed if conv.fit.init == "shared" else None,  # no shared init to name
        config=conv.as_dict(),
        collection={"name": cfg.source.collection, "root": cfg.source.uri, "options": configlib.to_dict(cfg.source.options)},
        storage_options=cfg.output.storage_options,
    )


def _check_same_conversion(writer: WeightWriter, conv: ResolvedConversion) -> None:
    stored = fingerprint(writer.attrs.get("config") or {})
    current = fingerprint(conv.as_dict())
    if stored != current:
        changed = sorted(k for k in set(stored) | set(current) if stored.get(k) != current.get(k))
        raise ValueError(
            f"{writer.uri}: the dataset was made by a different conversion (differs in {changed}); "
            "resume with the same config or convert into a new dataset"
        )


def _exists(uri: str, storage_options: dict[str, Any]) -> bool:
    import fsspec

    fs, path = fsspec.core.url_to_fs(uri, **storage_options)
    return fs.exists(path) and bool(fs.ls(path))
