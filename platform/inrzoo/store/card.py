"""Statistics and the dataset card (README.md at the dataset root), written at finalize."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import numpy as np

from inrzoo.store.layout import FORMAT_VERSION, METRIC_COLUMNS, STATUS_NAMES

_LICENCE_KEYS = ("licence", "license")


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
        "licences": dict(Counter(_licence(m) for m in cols["meta"] if _licence(m))),
    }
    for name in (*METRIC_COLUMNS, "steps"):
        values = cols[name][ok].astype(np.float64)
        values = values[np.isfinite(values) & (values >= 0 if name == "steps" else True)]
        if values.size:
            stats["metrics"][name] = {
                "count": int(values.size), "mean": float(values.mean()), "median": float(np.median(values)),
                "p90": float(np.percentile(values, 90)), "max": float(values.max()),
            }
    if writer.location.protocol not in ("http", "https"):
        total = writer.location.stored_bytes()
        params = sum(writer.location.stored_bytes(f"arch/{g.index}") for g in writer.groups)
        stats["bytes"] = {"total": total, "parameters": params,
                          "parameters_per_ok_row": params / max(int(ok.sum()), 1)}
    return stats


def _licence(meta_json: str) -> str | None:
    if not meta_json:
        return None
    meta = json.loads(meta_json)
    for key in _LICENCE_KEYS:
        if meta.get(key):
            return str(meta[key])
    return None


def render_card(writer: Any, stats: dict, title: str | None = None, description: str = "",
                licences: dict[str, str] | None = None) -> str:
    """Markdown: what the dataset is, how it was made, the licences of its sources, how to load it."""
    attrs = writer.attrs
    collection = attrs.get("collection") or {}
    title = title or f"INR dataset of {collection.get('name', 'a shape collection')}"
    lines = [f"# {title}", ""]
    if description:
        lines += [description, ""]
    lines += [
        "## What it is",
        f"{stats['rows']} shapes, each fitted with one implicit neural representation (a small MLP); "
        f"format `{attrs['format']}` version {attrs['format_version']} (Zarr v3, spec: docs/format.md "
        f"of inrzoo). Parameters stored as {attrs['layout']['dtype']} with the {attrs['layout']['codec']} codec.",
        "",
        "| status | rows |", "|---|---|",
        *[f"| {k} | {v} |" for k, v in sorted(stats["status"].items())],
        "",
        "| architecture | group | ok rows |", "|---|---|---|",
        *[f"| {a['label']} | `{a['group']}` | {stats['arch'].get(a['label'], 0)} |" for a in attrs["archs"]],
        "",
        "Splits: " + ", ".join(f"{k} {v}" for k, v in sorted(stats["split"].items())),
        "",
        "## How it was made",
        f"Created {attrs['created']['at']} by {attrs['created']['by']}; finalized {attrs['finalized']['at'] if attrs.get('finalized') else 'now'}. "
        f"Shared initialization seed: {attrs.get('init_seed')}.",
        "Source collection: `" + json.dumps({k: v for k, v in collection.items() if k != "licences"}, sort_keys=True) + "`",
        "",
        "Fitting configuration (sampler, loss, budget):",
        "```json", json.dumps(attrs.get("config") or {}, indent=2, sort_keys=True), "```",
    ]
    if stats["metrics"]:
        lines += ["", "| metric (ok rows) | mean | median | p90 | max |", "|---|---|---|---|---|"]
        for name, s in stats["metrics"].items():
            lines.append(f"| {name} | {s['mean']:.6g} | {s['median']:.6g} | {s['p90']:.6g} | {s['max']:.6g} |")
    if "bytes" in stats:
        lines += ["", f"Stored: {stats['bytes']['total']} bytes in all, "
                      f"{stats['bytes']['parameters_per_ok_row']:.0f} bytes of parameters per fitted shape."]
    all_licences = {**(collection.get("licences") or {}), **(licences or {})}
    lines += ["", "## Licences of the sources"]
    if all_licences:
        lines += [f"- {k}: {v}" for k, v in sorted(all_licences.items())]
    if stats["licences"]:
        lines += [f"- {v} shapes under {k} (per-shape record metadata)" for k, v in sorted(stats["licences"].items())]
    if not all_licences and not stats["licences"]:
        lines += ["Not recorded: check the licence of the source collection before redistributing."]
    lines += [
        "", "The fitted weights are derived from the sources above; their licences apply.",
        "", "## How to load it",
        "```python",
        "import inrzoo",
        f"ds = inrzoo.open_weights({writer.uri!r}, split='train')   # rows with status ok",
        "rec = ds[0]                       # record with parameters as torch tensors",
        "for batch in ds.loader(batch_size=64):   # stacked parameters + labels",
        "    ...",
        "values = ds.evaluate([0, 1], points)       # batched evaluation",
        "```",
        f"Without inrzoo: open the Zarr v3 group with any Zarr implementation and follow docs/format.md "
        f"(format {FORMAT_VERSION}); nothing in the dataset needs unpickling.",
        "",
    ]
    return "\n".join(lines)
