"""Create the dataset of a conversion, or reopen it to resume.

A resumed conversion must be the same conversion: the stored resolved config (less the
runtime and tracking sections, which may differ between runs) has to match, and the stored
rows must be the listing's shapes in the same order. New shapes at the end of the listing are
appended as pending rows. A dataset whose creation a killed run left unfinished is created
again; an append it left unfinished is completed.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

from inrzoo import config as configlib
from inrzoo.pipeline.config import ConvertConfig, ResolvedConversion, resolve
from inrzoo.redact import redact, redact_text
from inrzoo.store import IncompleteDatasetError, StoreError, WeightWriter

logger = logging.getLogger(__name__)

# Sections that describe how a run executes, not what it produces.
VOLATILE_KEYS = ("runtime", "tracking")


def fingerprint(resolved_config: dict[str, Any]) -> dict[str, Any]:
    """The part of a resolved config that decides the dataset's content."""
    data = json.loads(json.dumps(resolved_config))
    for key in VOLATILE_KEYS:
        data.pop(key, None)
    fit = data.get("fit", {})
    for key in ("device", "num_threads", "mlp_kernel"):  # how the fit runs (equal within float rounding)
        fit.pop(key, None)
    if fit.get("fused_precision", "fp32") == "fp32":  # the default, also of datasets made before it existed
        fit.pop("fused_precision", None)
    data.get("output", {}).pop("retry_failed", None)
    return data


def open_or_create(conv: ResolvedConversion, refs: list[dict[str, Any]]) -> WeightWriter:
    out = conv.config.output
    if not refs:
        raise ValueError(f"{conv.config.source.uri}: the collection lists no shapes")
    try:
        writer = WeightWriter.open(out.uri, out.storage_options)
    except IncompleteDatasetError:
        logger.warning("%s: a run was killed while creating this dataset (it holds no rows); creating it again",
                       redact_text(out.uri))
        return _create(conv, refs)
    except StoreError:
        if _exists(out.uri, out.storage_options):
            raise
        return _create(conv, refs)
    _check_same_conversion(writer, conv)
    writer.check_backed()
    stored_ids = [str(i) for i in writer.column("id")]
    listed_ids = [ref["id"] for ref in refs]
    if listed_ids[: len(stored_ids)] != stored_ids:
        missing = sorted(set(stored_ids) - set(listed_ids))[:5]
        raise ValueError(
            f"{out.uri}: the dataset holds {len(stored_ids)} shapes that are not the start of the current listing of "
            f"{conv.config.source.uri} (e.g. no longer listed: {missing}); convert into a new dataset"
        )
    if len(listed_ids) > len(stored_ids) or writer.attrs.get("appending"):
        # An append that a killed run left unfinished is completed with the current listing.
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
    # The dataset holds the config with secrets redacted; options newer than the dataset are
    # not part of what made it.
    defaults = fingerprint(resolve(dataclasses.replace(ConvertConfig(), preset=conv.config.preset)).as_dict())
    current = _known_to(stored, fingerprint(redact(conv.as_dict())), defaults)
    if stored != current:
        changed = sorted(k for k in set(stored) | set(current) if stored.get(k) != current.get(k))
        raise ValueError(
            f"{writer.uri}: the dataset was made by a different conversion (differs in {changed}); "
            "resume with the same config or convert into a new dataset"
        )


def _known_to(stored: Any, current: Any, defaults: Any) -> Any:
    """`current` without the keys that a config written by an older library lacks and that
    hold their default value (options added since, left as they were)."""
    if not isinstance(stored, dict) or not isinstance(current, dict):
        return current
    defaults = defaults if isinstance(defaults, dict) else {}
    return {k: _known_to(stored[k], v, defaults.get(k)) if k in stored else v for k, v in current.items()
            if k in stored or k not in defaults or v != defaults[k]}


def _exists(uri: str, storage_options: dict[str, Any]) -> bool:
    import fsspec

    fs, path = fsspec.core.url_to_fs(uri, **storage_options)
    return fs.exists(path) and bool(fs.ls(path))
