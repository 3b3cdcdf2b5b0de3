"""`inrzoo inspect`: a summary of a weight dataset (rows by status, quality, architectures, size)."""

from __future__ import annotations

from typing import Any

import numpy as np

from inrzoo.pipeline.report import quality
from inrzoo.store import STATUS_CODES, open_weights
from inrzoo.store.card import dataset_statistics


def summarize(uri: str, storage_options: dict[str, Any] | None = None) -> dict[str, Any]:
    dataset = open_weights(uri, storage_options, status=None)
    stats = dataset_statistics(dataset)
    cols = dataset.columns
    ok = cols["status"] == STATUS_CODES["ok"]
    errors = cols["surface_error"][ok].astype(np.float64)
    summary: dict[str, Any] = {
        "uri": uri,
        "format": f"{dataset.attrs['format']} {dataset.attrs['format_version']}",
        "rows": stats["rows"],
        "status": stats["status"],
        "architectures": {a["label"]: stats["arch"].get(a["label"], 0) for a in dataset.attrs["archs"]},
        "parameters_per_inr": {a["label"]: dataset.architecture(i).num_params for i, a in enumerate(dataset.attrs["archs"])},
        "dtype": dataset.attrs["layout"]["dtype"],
        "labels": stats["label"],
        "splits": stats["split"],
        "quality": quality(errors[np.isfinite(errors)]),
        "metrics": stats["metrics"],
        "created": dataset.attrs["created"],
        "finalized": (dataset.attrs.get("finalized") or {}).get("at"),
    }
    if "bytes" in stats:
        summary["bytes"] = stats["bytes"]
    return summary
