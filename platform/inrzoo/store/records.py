"""Per-shape records: what the writer accepts per row, what the reader hands back per row, and
the conversion between those and the columnar arrays under records/.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inrzoo.store.layout import (
    COLUMNS,
    MAX_ERROR_CHARS,
    MAX_STRING_BYTES,
    METRIC_COLUMNS,
    STATUS_NAMES,
    status_code,
    transform_dict,
    transform_row,
)


# The fitting engine reports the final loss as "loss".
METRIC_ALIASES = {"loss": "final_loss"}


@dataclass
class RowResult:
    """The outcome of fitting one row, handed to `WeightWriter.write`.

    params: one INR (no leading axis) in canonical names; None for failed/rejected rows.
    arch: the ArchSpec the INR was fitted with (after escalation), or a group index; None
      means the dataset's only architecture.
    transform: the normalization (Similarity, {"center", "scale"} or 4 numbers).
    metrics: surface_error, chamfer, fscore, final_loss, seconds, steps land in their columns;
      any other metric is kept under meta["metrics"].
    """

    row: int
    status: str = "ok"
    params: Mapping[str, Any] | None = None
    arch: Any = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    error: str | None = None
    transform: Any = None
    sha256: str | None = None
    meta: Mapping[str, Any] | None = None

    def __repr__(self) -> str:
        arch = "" if self.arch is None else f", arch={_arch_label(self.arch)}"
        error = f", error={_shorten(self.error)!r}" if self.error else ""
        return f"RowResult(row={self.row}, status={self.status!r}{arch}, params={_params_summary(self.params)}{error})"


@dataclass
class Record:
    """One row as the reader returns it; params are torch tensors in canonical order."""

    row: int
    id: str
    source_uri: str
    sha256: str
    label: int | None
    label_name: str | None
    split: str | None
    status: str
    error: str | None
    transform: dict | None
    metrics: dict[str, float]
    meta: dict
    arch: Any = None
    params: dict | None = None

    def __repr__(self) -> str:
        """One line: which shape, how it was fitted, how many parameters (never the values)."""
        parts = [f"row={self.row}", f"id={self.id!r}", f"status={self.status!r}"]
        if self.label_name is not None:
            parts.append(f"label={self.label_name!r}")
        if self.split:
            parts.append(f"split={self.split!r}")
        if self.arch is not None:
            parts.append(f"arch={_arch_label(self.arch)}")
        parts.append(f"params={_params_summary(self.params)}")
        if "surface_error" in self.metrics:
            parts.append(f"surface_error={self.metrics['surface_error']:.3g}")
        if self.error:
            parts.append(f"error={_shorten(self.error)!r}")
        return f"Record({', '.join(parts)})"


def _arch_label(arch: Any) -> str:
    if hasattr(arch, "label"):
        return arch.label
    return str(arch.get("name", arch)) if isinstance(arch, Mapping) else str(arch)


def _params_summary(params: Mapping[str, Any] | None) -> str:
    if not params:
        return "none"
    count = sum(int(np.prod(getattr(v, "shape", ()))) for v in params.values())
    dtype = str(getattr(next(iter(params.values())), "dtype", "")).replace("torch.", "")
    return f"{len(params)} tensors, {count:,} values {dtype}".rstrip()


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def listing_columns(listing: Sequence[Any], label_names: list[str], uri: str = "") -> dict[str, np.ndarray]:
    """Record columns for fresh (pending) rows from ShapeRef-like items or mappings.

    Text is stored as valid UTF-8 (a file name that is not becomes its escaped form) and within
    the format's string limit; an empty or duplicate id is refused, naming the item.
    """
    n = len(listing)
    cols = empty_columns(n)
    index = {name: i for i, name in enumerate(label_names)}
    seen: set[str] = set()
    for i, item in enumerate(listing):
        get = item.get if isinstance(item, Mapping) else (lambda k, d=None, o=item: getattr(o, k, d))
        shape_id = utf8_text(str(get("id") or ""))
        if not shape_id or shape_id in seen:
            raise ValueError(f"{uri}: listing item {i} has {'no' if not shape_id else 'a duplicate'} id {shape_id!r}")
        seen.add(shape_id)
        cols["id"][i] = limited(shape_id, f"{uri}: listing item {i} id")
        cols["source_uri"][i] = limited(utf8_text(str(get("uri", "") or "")), f"{uri}: listing item {i} uri")
        cols["sha256"][i] = limited(str(get("sha256", "") or ""), f"{uri}: listing item {i} sha256")
        label = get("label")
        cols["label"][i] = -1 if label is None else index[str(label)]
        cols["split"][i] = limited(utf8_text(str(get("split") or "")), f"{uri}: listing item {i} split")
        meta = dict(get("meta") or {})
        if get("kind"):
            meta["kind"] = get("kind")
        cols["meta"][i] = limited(utf8_text(json.dumps(meta, sort_keys=True)) if meta else "",
                                  f"{uri}: listing item {i} meta")
    return cols


def utf8_text(text: str) -> str:
    """Text that encodes as UTF-8: undecodable bytes of a file name (surrogate escapes) and lone
    surrogates become backslash escapes."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "backslashreplace")
    return raw.decode("utf-8", "backslashreplace")


def limited(text: str, what: str) -> str:
    if len(text.encode("utf-8")) > MAX_STRING_BYTES:
        raise ValueError(f"{what} is longer than the format's {MAX_STRING_BYTES} bytes")
    return text


def _clip(text: str) -> str:
    """An error text shortened to MAX_ERROR_CHARS (head and tail kept)."""
    text = utf8_text(text)
    if len(text) <= MAX_ERROR_CHARS:
        return text
    half = MAX_ERROR_CHARS // 2 - 20
    return f"{text[:half]} ... [{len(text) - 2 * half} characters cut] ... {text[-half:]}"


def label_names_of(listing: Sequence[Any]) -> list[str]:
    labels = set()
    for item in listing:
        label = item.get("label") if isinstance(item, Mapping) else getattr(item, "label", None)
        if label is not None:
            labels.add(str(label))
    return sorted(labels)


def empty_columns(n: int) -> dict[str, np.ndarray]:
    cols = {}
    for name, col in COLUMNS.items():
        arr = np.empty((n, *col.trailing), dtype=col.numpy_dtype)
        arr[...] = col.fill
        cols[name] = arr
    return cols


def apply_result(cols: dict[str, np.ndarray], i: int, result: RowResult, group: int) -> None:
    """Overwrite local row i of a block of columns with one RowResult."""
    code = status_code(result.status)
    if code == 0:
        raise ValueError(f"row {result.row}: a written result cannot be 'pending'")
    cols["status"][i] = code
    cols["error"][i] = _clip(result.error or "")
    cols["arch"][i] = group
    cols["arch_row"][i] = result.row if group >= 0 else -1
    cols["transform"][i] = transform_row(result.transform)
    if result.sha256:
        cols["sha256"][i] = result.sha256
    extra = {}
    for name in METRIC_COLUMNS:
        cols[name][i] = np.nan
    cols["steps"][i] = -1
    for name, value in (result.metrics or {}).items():
        name = METRIC_ALIASES.get(name, name)
        if name in METRIC_COLUMNS:
            cols[name][i] = float(value)
        elif name == "steps":
            cols["steps"][i] = int(value)
        else:  # other metrics (iou, lr, ...) keep their JSON value
            extra[name] = float(value) if isinstance(value, (int, float, np.number)) else value
    meta = json.loads(cols["meta"][i]) if cols["meta"][i] else {}
    meta.pop("metrics", None)
    meta.update(result.meta or {})
    if extra:
        meta["metrics"] = extra
    cols["meta"][i] = limited(utf8_text(json.dumps(meta, sort_keys=True, default=str)), f"row {result.row} meta") if meta else ""


def record_at(cols: Mapping[str, np.ndarray], i: int, row: int, label_names: Sequence[str], uri: str = "") -> Record:
    label = int(cols["label"][i])
    meta = record_meta(cols["meta"][i], row, uri)
    metrics = {name: float(cols[name][i]) for name in METRIC_COLUMNS if not np.isnan(cols[name][i])}
    if int(cols["steps"][i]) >= 0:
        metrics["steps"] = int(cols["steps"][i])
    metrics.update(meta.get("metrics", {}))
    return Record(
        row=row,
        id=str(cols["id"][i]),
        source_uri=str(cols["source_uri"][i]),
        sha256=str(cols["sha256"][i]),
        label=None if label < 0 else label,
        label_name=None if label < 0 else label_names[label],
        split=str(cols["split"][i]) or None,
        status=STATUS_NAMES[int(cols["status"][i])],
        error=str(cols["error"][i]) or None,
        transform=transform_dict(cols["transform"][i]),
        metrics=metrics,
        meta={k: v for k, v in meta.items() if k != "metrics"},
    )


def record_meta(text: str, row: int, uri: str) -> dict:
    """records/meta of one row: a JSON object whose `metrics`, if present, is an object too."""
    from inrzoo.store.storage import StoreError

    try:
        meta = json.loads(text) if text else {}
    except json.JSONDecodeError as exc:
        raise StoreError(f"{uri}: array 'records/meta' row {row} is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("metrics", {}), dict):
        raise StoreError(f"{uri}: array 'records/meta' row {row} must be a JSON object (with an object 'metrics')")
    return meta


def results_from_fit(rows: Sequence[int], fit_result: Any, transforms: Sequence[Any] | None = None,
                     sha256: Sequence[str | None] | None = None) -> list[RowResult]:
    """RowResults from an `inrzoo.fit.FitResult` whose K shapes are the dataset rows `rows`
    (each shape keeps its own architecture after escalation)."""
    results = []
    for k, row in enumerate(rows):
        ok = fit_result.status[k] == "ok"
        results.append(RowResult(
            row=int(row),
            status=fit_result.status[k],
            params=dict(fit_result.shape_params[k]) if ok else None,
            arch=fit_result.arch[k] if ok else None,
            metrics={name: value for name, value in (fit_result.metrics[k] or {}).items() if value is not None},
            error=fit_result.errors[k],
            transform=None if transforms is None else transforms[k],
            sha256=None if sha256 is None else sha256[k],
        ))
    return results
