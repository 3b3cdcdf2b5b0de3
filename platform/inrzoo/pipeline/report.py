"""What a finished conversion shows a person: a summary table, the surface-error histogram
(as Davies et al. fig. 5) and a content digest of the dataset for lineage."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from inrzoo.store import STATUS_CODES
from inrzoo.store.digest import content_digest

# Davies et al.'s Thingi10k figures: 93% of shapes below 0.003, none above 0.01.
PAPER_THRESHOLDS = (0.003, 0.01)


def quality(errors: np.ndarray) -> dict[str, float]:
    if errors.size == 0:
        return {}
    return {
        "surface_error_median": float(np.median(errors)),
        "surface_error_p93": float(np.percentile(errors, 93)),
        "surface_error_max": float(np.max(errors)),
        "fraction_below_0.003": float(np.mean(errors < PAPER_THRESHOLDS[0])),
        "fraction_above_0.01": float(np.mean(errors > PAPER_THRESHOLDS[1])),
    }


def summary_table(report: Any) -> str:
    q = quality(report.surface_errors)
    rows = [
        ("dataset", report.uri),
        ("rows", f"{report.rows} (ok {report.ok}, failed {report.failed}, pending {report.pending})"),
        ("fitted this run", f"{report.scheduled_shapes} shapes in {report.seconds:.1f} s "
                            f"({report.shapes_per_hour:.1f} shapes/h)"),
    ]
    if q:
        rows.append(("surface error", f"median {q['surface_error_median']:.5f}, p93 {q['surface_error_p93']:.5f}, "
                                       f"max {q['surface_error_max']:.5f}"))
        rows.append(("vs Davies et al.", f"{100 * q['fraction_below_0.003']:.0f}% below 0.003 (paper 93%), "
                                          f"{100 * q['fraction_above_0.01']:.0f}% above 0.01 (paper 0%)"))
    if report.mlflow_run_id:
        rows.append(("mlflow run", f"{report.mlflow_run_id} at {report.tracking_uri}"))
    for failure in report.failures[:10]:
        rows.append(("failed", failure))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def quality_x1000(q: dict[str, float]) -> dict[str, float]:
    """The surface-error figures times 1000 (`surface_error_median_x1000`, ...): errors of a few
    thousandths read as 0.00 in the MLflow UI, which rounds to two decimals."""
    return {f"{name}_x1000": 1000.0 * value for name, value in q.items() if name.startswith("surface_error_")}


def histogram_figure(errors: np.ndarray, title: str = "Surface error per shape") -> Any:
    """The histogram (log x) with Davies' thresholds marked, each labelled with how many of
    these shapes lie beyond it."""
    from inrzoo.render.meshes import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    positive = errors[errors > 0]
    if positive.size:
        low, high = math.log10(positive.min()), math.log10(max(positive.max(), PAPER_THRESHOLDS[1]))
        ax.hist(positive, bins=np.logspace(low - 0.1, high + 0.1, 30), color="#4477aa")
    ax.set_xscale("log")
    below, above = int(np.sum(errors < PAPER_THRESHOLDS[0])), int(np.sum(errors > PAPER_THRESHOLDS[1]))
    labels = (f"{PAPER_THRESHOLDS[0]:g}: {below} of {errors.size} shapes below (paper 93%)",
              f"{PAPER_THRESHOLDS[1]:g}: {above} of {errors.size} shapes above (paper none)")
    for threshold, label, style in zip(PAPER_THRESHOLDS, labels, ("--", ":")):
        ax.axvline(threshold, color="#cc3311", linestyle=style, linewidth=1, label=label)
    ax.legend(fontsize=7, loc="upper right")
    ax.set_xlabel("surface error (mean |f| on the surface, unit-sphere frame)")
    ax.set_ylabel("shapes")
    ax.set_title(f"{title} ({errors.size} shapes)")
    fig.tight_layout()
    return fig


def histogram_png(errors: np.ndarray, path: str, title: str = "Surface error per shape") -> None:
    from inrzoo.render.meshes import save_figure

    save_figure(histogram_figure(errors, title), path, dpi=120)


def comparison_png(uri: str, storage_options: dict[str, Any] | None, path: str, rows: int = 8,
                   size: int = 96) -> int:
    """Originals (sphere-traced source meshes) above their INRs for the first `rows` fitted rows
    of a dataset, `size` pixels square each (inrzoo.render.render_grid); returns how many
    columns were drawn (0: no fitted row, no file)."""
    from inrzoo.render import render_grid
    from inrzoo.store import open_weights

    dataset = open_weights(uri, storage_options)
    count = min(rows, len(dataset))
    if count:
        render_grid(dataset, range(count), path, size=size, originals=True)
    return count


def dataset_digest(writer: Any) -> str:
    """The content digest (inrzoo.store.digest) of a dataset being written."""
    return content_digest(writer.attrs.get("config") or {}, writer.records["id"][:], writer.records["sha256"][:],
                          writer.records["status"][:])


def status_counts(writer: Any) -> dict[str, int]:
    status = writer.records["status"][:]
    return {name: int(np.sum(status == code)) for name, code in STATUS_CODES.items()}
