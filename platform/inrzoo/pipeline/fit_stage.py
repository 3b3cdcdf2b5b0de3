"""Fit-and-write stage: one work unit (a chunk-aligned row range) of prepared shapes -> its rows.

A work unit is fitted as one batch (K INRs as stacked tensors) and written as one aligned
region of the dataset, so two workers never touch the same chunk. When the object store stays
unreachable the unit fails with an error that names the store, and a later resubmission picks
the unit up again (its rows are still pending).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from inrzoo.fit import OK, fit_batch
from inrzoo.pipeline.config import ResolvedConversion
from inrzoo.pipeline.prepare import PreparedShape
from inrzoo.pipeline.retry import store_name, with_retries
from inrzoo.store import RowResult, WeightWriter, results_from_fit


def fit_unit(prepared: Sequence[PreparedShape], conv: ResolvedConversion) -> list[RowResult]:
    """Fit the prepared shapes of one unit together; failed preparations pass through as failed rows."""
    ready = [p for p in prepared if p.status == OK]
    results = {p.row: RowResult(row=p.row, status="failed", error=p.error, metrics={"seconds": p.seconds})
               for p in prepared if p.status != OK}
    if ready:
        fitted = fit_batch(
            [p.samples for p in ready],
            conv.fit,
            surface=[p.surface for p in ready],
            stream_ids=[p.stream_seed for p in ready],
        )
        rows = results_from_fit([p.row for p in ready], fitted, transforms=[p.transform for p in ready],
                                sha256=[p.sha256 for p in ready])
        for k, (p, result) in enumerate(zip(ready, rows)):
            result.metrics = {name: float(v) for name, v in result.metrics.items() if _finite(v)}
            result.metrics["seconds"] = result.metrics.get("seconds", 0.0) + p.seconds  # prepare + fit
            result.meta = {**p.meta, "stop_reason": fitted.stop_reasons[k], "arch": fitted.arch[k].label}
            if fitted.escalations[k]:
                result.meta["escalations"] = fitted.escalations[k]
            results[p.row] = result
    return [results[row] for row in sorted(results)]


class FitWorker:
    """Ray Data callable class: one actor of the fitting pool (a GPU each where present)."""

    def __init__(self, conv: ResolvedConversion):
        import torch

        self.conv = conv
        # One thread count for every executor: the same floating-point reduction order, so the
        # weights do not depend on where a unit was fitted.
        torch.set_num_threads(conv.fit.num_threads or max(1, int(conv.config.runtime.cpus_per_fit_worker)))
        if conv.fit.device == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("fit.device is 'cuda' but this worker sees no GPU")
        out = conv.config.output
        self.store = store_name(out.uri, out.storage_options)
        runtime = conv.config.runtime
        self.writer = with_retries(lambda: WeightWriter.open(out.uri, out.storage_options), "open the dataset",
                                   self.store, runtime.store_retries, runtime.store_backoff_s)

    def __call__(self, unit: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        prepared: list[PreparedShape] = list(unit["prepared"])
        results = fit_unit(prepared, self.conv)
        region = range(int(unit["start"]), int(unit["stop"]))
        runtime = self.conv.config.runtime
        with_retries(lambda: self.writer.write(region, results), f"write rows {region.start}:{region.stop}",
                     self.store, runtime.store_retries, runtime.store_backoff_s)
        return summarize_unit(region, results, time.perf_counter() - started)


def summarize_unit(region: range, results: Sequence[RowResult], seconds: float) -> dict[str, Any]:
    errors = [r.metrics.get("surface_error", math.nan) for r in results if r.status == OK]
    return {
        "start": region.start,
        "stop": region.stop,
        "ok": sum(r.status == OK for r in results),
        "failed": sum(r.status != OK for r in results),
        "seconds": seconds,
        "surface_errors": np.asarray(errors, dtype=np.float64),
        "failures": [f"{r.row}: {r.error}" for r in results if r.status != OK],
    }


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
