"""Statistics and the dataset card (README.md at the dataset root), written at finalize.

The card reads like a Hugging Face dataset card: a YAML header (pretty_name, license, tags,
size_categories, source_datasets, and an `inrzoo` block), a title named after the collection,
previews (previews.png next to the card when asked for: INRs sphere-traced beside their
originals), the quality table and a loading snippet that runs on the dataset, then contents,
sources and licences, how it was made, and the conversion config last.
"""

from __future__ import annotations

import json
import logging
import posixpath
import re
from collections import Counter
from typing import Any

import numpy as np
import yaml

from inrzoo.store.layout import FORMAT_VERSION, METRIC_COLUMNS, STATUS_NAMES

log = logging.getLogger(__name__)

_LICENCE_KEYS = ("licence", "license")
PREVIEW_FILE = "previews.png"
PREVIEW_ROWS = 6  # chosen: the first fitted rows drawn in the card's previews
# Davies et al. on Thingi10K: 93% of shapes below surface error 0.003, none above 0.01.
GOOD_SURFACE_ERROR, BAD_SURFACE_ERROR = 0.003, 0.01


def dataset_statistics(writer: Any) -> dict:
    """Counts by status, split, label and architecture; metric summaries over ok rows; bytes stored."""
    cols = {name: arr[:] for name, arr in writer.records.items()}
    status = cols["status"]
    ok = status == 1
    names = writer.attrs["label_names"]
    stats: dict[str, Any] = {
        "rows": int(status.shape[0]),
        "status": {STATUS_NAMES[c]: int(n) for c, n in zip(*np.unique(status, return_counts=True))},
        "split": dict(Counter(str(s) or "(none)" for s in cols["split"])),
        "label": dict(Counter(names[int(v)] if v >= 0 else "(none)" for v in cols["label"])),
        "arch": {writer.attrs["archs"][g]["label"]: int(np.sum(ok & (cols["arch"] == g))) for g in range(len(writer.groups))},
        "metrics": {},
        "licences": dict(Counter(row_licence(m) for m in cols["meta"] if row_licence(m))),
    }
    for name in (*METRIC_COLUMNS, "steps"):
        values = cols[name][ok].astype(np.float64)
        values = values[np.isfinite(values) & (values >= 0 if name == "steps" else True)]
        if values.size:
            stats["metrics"][name] = {
                "count": int(values.size), "mean": float(values.mean()), "median": float(np.median(values)),
                "p90": float(np.percentile(values, 90)), "max": float(values.max()),
            }
            if name == "surface_error":
                stats["metrics"][name]["share_below_0.003"] = float(np.mean(values < GOOD_SURFACE_ERROR))
                stats["metrics"][name]["count_above_0.01"] = int(np.sum(values > BAD_SURFACE_ERROR))
    if writer.location.protocol not in ("http", "https"):
        total = writer.location.stored_bytes()
        params = sum(writer.location.stored_bytes(f"arch/{g.index}") for g in writer.groups)
        stats["bytes"] = {"total": total, "parameters": params,
                          "parameters_per_ok_row": params / max(int(ok.sum()), 1)}
    return stats


def row_licence(meta_json: str) -> str | None:
    if not meta_json:
        return None
    meta = json.loads(meta_json)
    for key in _LICENCE_KEYS:
        if meta.get(key):
            return str(meta[key])
    return None


def card_title(attrs: dict, stats: dict) -> str:
    """'<collection>: N shapes as SDF INRs (relu_mlp-8x32)'; a collection's own title wins."""
    collection = attrs.get("collection") or {}
    if collection.get("title"):
        return str(collection["title"])
    name = str(collection.get("name") or "")
    root = str(collection.get("root") or "").rstrip("/")
    try:
        from inrzoo.collections.base import REGISTRY

        known = REGISTRY[name].title if name in REGISTRY and name != "folder" else None
    except ImportError:  # pragma: no cover - collections ship with the store
        known = None
    source = known or (posixpath.basename(root) if root else "") or name or "Shapes"
    target = str((attrs.get("config") or {}).get("target") or "")
    field = target.upper() if target in ("sdf", "udf") else ("occupancy" if target == "occupancy" else "implicit")
    archs = ", ".join(a["label"] for a in attrs.get("archs", []))
    return f"{source}: {stats['rows']} shapes as {field} INRs ({archs})"


def _licence_id(values: set[str]) -> str:
    """The Hugging Face `license` value: one SPDX-like id shared by every source, else other/unknown."""
    if not values:
        return "unknown"
    if len(values) == 1:
        value = next(iter(values)).strip()
        if re.fullmatch(r"[A-Za-z0-9.\-]+", value):
            return value.lower()
    return "other"


def _size_category(rows: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if rows < limit:
            return label
    return "n>1M"


def _header(attrs: dict, stats: dict, title: str, licences: dict[str, str]) -> list[str]:
    collection = attrs.get("collection") or {}
    config = attrs.get("config") or {}
    target = str(config.get("target") or "")
    header = {
        "pretty_name": title,
        "license": _licence_id(set(licences.values()) | set(stats["licences"])),
        "tags": ["inrzoo", "implicit-neural-representation", "neural-fields", "weight-space", "3d"]
                + ([target] if target in ("sdf", "udf", "occupancy") else []),
        "size_categories": [_size_category(stats["rows"])],
        "source_datasets": [str(collection.get("root") or collection.get("name") or "unknown")],
        "inrzoo": {"format": attrs["format"], "format_version": attrs["format_version"],
                   "architectures": [a["label"] for a in attrs.get("archs", [])],
                   "field": target or "unknown", "dtype": attrs["layout"]["dtype"], "rows": stats["rows"],
                   "fitted_rows": stats["status"].get("ok", 0)},
    }
    return ["---", yaml.safe_dump(header, sort_keys=False, allow_unicode=True).rstrip(), "---", ""]


def _quality(stats: dict) -> list[str]:
    lines = ["## Quality", ""]
    status = ", ".join(f"{v} {k}" for k, v in sorted(stats["status"].items()))
    lines += [f"Rows: {status}.", ""]
    if not stats["metrics"]:
        return lines + ["No fitted rows yet.", ""]
    lines += ["| metric (fitted rows) | mean | median | p90 | max |", "|---|---|---|---|---|"]
    for name, s in stats["metrics"].items():
        lines.append(f"| {name} | {s['mean']:.6g} | {s['median']:.6g} | {s['p90']:.6g} | {s['max']:.6g} |")
    surface = stats["metrics"].get("surface_error")
    if surface:
        lines += ["", f"Surface error (mean |f| on the true surface, normalized frame): "
                      f"{surface['share_below_0.003']:.0%} of fitted shapes below {GOOD_SURFACE_ERROR}, "
                      f"{surface['count_above_0.01']} above {BAD_SURFACE_ERROR} (Davies et al. on Thingi10K: "
                      f"93% below {GOOD_SURFACE_ERROR}, none above {BAD_SURFACE_ERROR})."]
    return lines + [""]


def _snippet(writer: Any, stats: dict) -> list[str]:
    """Python that runs on this dataset as it is (tests execute it)."""
    fitted = stats["status"].get("ok", 0)
    options = "" if writer.location.protocol in ("file", "memory") else \
        "  # add storage_options={...} for a private bucket"
    lines = ["## How to load it", "", "```python", "import inrzoo", "",
             f"ds = inrzoo.open_weights({writer.uri!r}){options}",
             f"print(len(ds), 'fitted rows')                 # {fitted} (rows with status ok)"]
    if fitted:
        splits = sorted((s for s in stats["split"] if s != "(none)"), key=lambda s: (s != "train", s))
        single = sum(1 for n in stats["arch"].values() if n) == 1
        lines.append("print(ds[0])                                    # one row: id, label, split, metrics, parameters")
        if splits:
            lines.append(f"part = ds.filter(split={splits[0]!r})            # {stats['split'][splits[0]]} rows")
        view = "ds" if single else "ds.filter(arch=0)"
        batch = min(4, fitted)
        lines += [f"batch = next(iter({view}.loader(batch_size={batch})))   # stacked parameters and labels",
                  f"values = {view}.evaluate([0], [[0.0, 0.0, 0.0]])      # the field at points (normalized frame)",
                  f"inrzoo.render.render_grid({view}, range({min(4, fitted)}), 'grid.png', size=128)   # pictures"]
    lines += ["```", "", f"Without inrzoo: open the Zarr v3 group with any Zarr implementation and follow "
                         f"docs/format.md (format {FORMAT_VERSION}); nothing in the dataset needs unpickling.", ""]
    return lines


def _contents(attrs: dict, stats: dict) -> list[str]:
    lines = ["## Contents", "",
             f"{stats['rows']} shapes, each fitted with one implicit neural representation (a small MLP); format "
             f"`{attrs['format']}` version {attrs['format_version']} (Zarr v3, spec: docs/format.md of inrzoo). "
             f"Parameters stored as {attrs['layout']['dtype']} with the {attrs['layout']['codec']} codec.", "",
             "| architecture | group | fitted rows |", "|---|---|---|",
             *[f"| {a['label']} | `{a['group']}` | {stats['arch'].get(a['label'], 0)} |" for a in attrs["archs"]], "",
             "Splits: " + ", ".join(f"{k} {v}" for k, v in sorted(stats["split"].items())) + ".",
             "Labels: " + ", ".join(f"{k} {v}" for k, v in sorted(stats["label"].items())) + "."]
    if "bytes" in stats:
        lines.append(f"Stored: {stats['bytes']['total']} bytes in all, "
                     f"{stats['bytes']['parameters_per_ok_row']:.0f} bytes of parameters per fitted shape.")
    return lines + [""]


def _sources(collection: dict, stats: dict, licences: dict[str, str]) -> list[str]:
    lines = ["## Sources and licences", ""]
    source = {k: v for k, v in collection.items() if k not in ("licences", "title")}
    if source:
        lines += ["Source collection: `" + json.dumps(source, sort_keys=True) + "`", ""]
    if licences:
        lines += [f"- {k}: {v}" for k, v in sorted(licences.items())]
    if stats["licences"]:
        lines += [f"- {v} shapes under {k} (per-shape record metadata)" for k, v in sorted(stats["licences"].items())]
    if not licences and not stats["licences"]:
        lines += ["Not recorded: check the licence of the source collection before redistributing."]
    return lines + ["", "The fitted weights are derived from the sources above; their licences apply.", ""]


def write_previews(writer: Any) -> str | None:
    """previews.png next to the card: the first fitted rows sphere-traced, above them their
    originals where the sources can be read; None (and a log line) when no picture can be made."""
    try:
        from inrzoo.render import render_grid
        from inrzoo.store.reader import open_weights

        dataset = open_weights(writer.uri, writer.location.storage_options)
        if len(dataset) == 0:
            return None
        with writer.location.fs.open(writer.location.key(PREVIEW_FILE), "wb") as handle:
            render_grid(dataset, range(min(PREVIEW_ROWS, len(dataset))), handle, size=160, originals=True)
        return PREVIEW_FILE
    except Exception as exc:  # pictures are a courtesy: finalize must not fail for them
        log.warning("%s: no previews for the dataset card: %s: %s", writer.uri, type(exc).__name__, exc)
        return None


def render_card(writer: Any, stats: dict, title: str | None = None, description: str = "",
                licences: dict[str, str] | None = None, previews: bool = False) -> str:
    """Markdown with a YAML header: title, previews, quality, how to load it, contents, sources and
    licences, how it was made, and the config at the end. previews=True renders previews.png."""
    attrs = writer.attrs
    collection = attrs.get("collection") or {}
    title = title or card_title(attrs, stats)
    all_licences = {**(collection.get("licences") or {}), **(licences or {})}
    lines = [*_header(attrs, stats, title, all_licences), f"# {title}", ""]
    if description:
        lines += [description, ""]
    picture = write_previews(writer) if previews else None
    if picture:
        lines += [f"![The first fitted rows: originals above, their INRs below (sphere-traced)]({picture})", ""]
    lines += _quality(stats) + _snippet(writer, stats) + _contents(attrs, stats) + _sources(collection, stats, all_licences)
    finalized = attrs["finalized"]["at"] if attrs.get("finalized") else "now"
    lines += ["## How it was made", "",
              f"Created {attrs['created']['at']} by {attrs['created']['by']}; finalized {finalized}. "
              f"Shared initialization seed: {attrs.get('init_seed')}.", "",
              "## Configuration", "", "The resolved conversion config (sampler, loss, fitting budget):", "",
              "```yaml", yaml.safe_dump(attrs.get("config") or {}, sort_keys=True).rstrip(), "```", ""]
    return "\n".join(lines)
