"""Fit-and-write stage: one work unit (a chunk-aligned row range) of prepared shapes -> its rows.

A work unit is fitted in batches of `fit_group_size` shapes (K INRs as stacked tensors each),
as many side by side in threads as the worker has cores (torch releases the GIL), and written
as one aligned region of the dataset, so two workers never touch the same chunk. When the object store stays
unreachable the unit fails with an error that names the store, and a later resubmission picks
the unit up again (its rows are still pending).
"""

from __future__ import annotations

import functools
import math
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from inrzoo.fit import OK, FitResult, fit_batch
from inrzoo.logs import show_progress
from inrzoo.pipeline.config import ResolvedConversion
from inrzoo.pipeline.prepare import PreparedShape, unpack
from inrzoo.pipeline.quality import shape_quality
from inrzoo.pipeline.retry import store_name, with_retries
from inrzoo.store import RowResult, WeightWriter, results_from_fit


def fit_groups(ready: Sequence[PreparedShape], conv: ResolvedConversion, threads: int = 1) -> FitResult:
    """The shapes fitted in contiguous batches of at most `fit_group_size` (as even as
    possible), `threads` batches at a time side by side; results in input order.

    The grouping depends only on the config and the unit, never on the cores, so the weights
    do not depend on where or how parallel a unit was fitted.
    """
    size = conv.config.fit_group_size or len(ready)
    count = -(-len(ready) // size)
    bounds = [round(i * len(ready) / count) for i in range(count + 1)]
    parts = [ready[a:b] for a, b in zip(bounds, bounds[1:])]

    def fit(part: Sequence[PreparedShape]) -> FitResult:
        return fit_batch([p.samples for p in part], conv.fit, surface=[p.surface for p in part],
                         stream_ids=[p.stream_seed for p in part])

    threads = max(1, min(threads, len(parts)))
    if threads == 1:
        results = [fit(part) for part in parts]
    else:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="fit-group") as pool:
            results = list(pool.map(fit, parts))
    if len(results) == 1:
        return results[0]
    return FitResult(*(sum((getattr(r, name) for r in results), []) for name in
                       ("shape_params", "arch", "status", "errors", "metrics", "stop_reasons", "escalations")),
                     config=results[0].config, kernels=sum((r.kernels for r in results), []))


def fit_unit(prepared: Sequence[PreparedShape], conv: ResolvedConversion, threads: int = 1) -> list[RowResult]:
    """Fit the prepared shapes of one unit (batches of fit_group_size, `threads` at a time);
    failed preparations pass through as failed rows."""
    ready = [p for p in prepared if p.status == OK]
    results = {p.row: RowResult(row=p.row, status="failed", error=p.error, metrics={"seconds": p.seconds})
               for p in prepared if p.status != OK}
    if ready:
        fitted = fit_groups(ready, conv, threads)
        rows = results_from_fit([p.row for p in ready], fitted, transforms=[p.transform for p in ready],
                                sha256=[p.sha256 for p in ready])
        for k, (p, result) in enumerate(zip(ready, rows)):
            result.metrics = {name: float(v) for name, v in result.metrics.items() if _finite(v)}
            fit_seconds = result.metrics.get("seconds", 0.0)
            started = time.perf_counter()
            if fitted.status[k] == OK:
                quality = shape_quality(fitted.arch[k], fitted.shape_params[k], p.samples.field, conv.fit.loss,
                                        p.surface, conv.config.eval, p.stream_seed)
                # A field without a zero crossing has no Chamfer (stored as missing) and F-score 0.
                result.metrics.update({name: v for name, v in quality.items() if _finite(v)})
            check_seconds = time.perf_counter() - started
            # Cost of each stage per shape (kept in meta["metrics"]) and in all.
            result.metrics.update(seconds_prepare=p.seconds, seconds_fit=fit_seconds, seconds_check=check_seconds,
                                  seconds=p.seconds + fit_seconds + check_seconds)
            result.meta = {**p.meta, "stop_reason": fitted.stop_reasons[k], "arch": fitted.arch[k].label,
                           "fit_kernel": fitted.kernels[k]}
            if fitted.escalations[k]:
                result.meta["escalations"] = fitted.escalations[k]
            results[p.row] = result
    return [results[row] for row in sorted(results)]


class FitWorker:
    """Ray Data callable class: one actor of the fitting pool (a GPU each where present)."""

    def __init__(self, conv: ResolvedConversion):
        import torch

        show_progress()  # in a Ray actor: the engine's fit lines reach the driver's log (log_to_driver)
        self.conv = conv
        runtime = conv.config.runtime
        # One intra-op thread count for every executor: the same floating-point reduction order,
        # so the weights do not depend on where a unit was fitted. Further cores fit a unit's
        # batches side by side (fit_groups).
        torch.set_num_threads(conv.fit.num_threads or 1)
        self.threads = runtime.fit_threads or worker_cores(runtime)
        if conv.fit.device == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("fit.device is 'cuda' but this worker sees no GPU")
        out = conv.config.output
        self.store = store_name(out.uri, out.storage_options)
        self.writer = with_retries(lambda: WeightWriter.open(out.uri, out.storage_options), "open the dataset",
                                   self.store, runtime.store_retries, runtime.store_backoff_s)

    def __call__(self, unit: dict[str, Any]) -> dict[str, Any]:
        return self.fit_units([unit])[0]

    def fit_units(self, units: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """The shapes of several units fitted together (runtime.units_per_fit), then each unit
        written as its own region; one summary per unit, with its share of the fitting time."""
        started = time.perf_counter()
        prepared: list[PreparedShape] = [p for unit in units for p in unpack(unit["prepared"])]
        results = fit_unit(prepared, self.conv, self.threads)
        fit_seconds = time.perf_counter() - started
        runtime = self.conv.config.runtime
        summaries = []
        for unit in units:
            written = time.perf_counter()
            region = range(int(unit["start"]), int(unit["stop"]))
            mine = [r for r in results if r.row in region]
            with_retries(functools.partial(self.writer.write, region, mine), f"write rows {region.start}:{region.stop}",
                         self.store, runtime.store_retries, runtime.store_backoff_s)
            share = fit_seconds * len(mine) / max(1, len(results))
            summaries.append(summarize_unit(region, mine, share + time.perf_counter() - written))
        return summaries


class UnitBatchWorker(FitWorker):
    """Ray Data callable class for map_batches: a batch of runtime.units_per_fit prepared units
    (a pandas frame: start, stop, prepared) -> their summaries, one row per unit."""

    def __call__(self, batch: Any) -> Any:  # pandas.DataFrame -> pandas.DataFrame
        import pandas as pd

        units = [{"start": start, "stop": stop, "prepared": prepared}
                 for start, stop, prepared in zip(batch["start"], batch["stop"], batch["prepared"])]
        return pd.DataFrame(self.fit_units(units))


def worker_cores(runtime) -> int:
    """Cores one fitting worker may keep busy: its share of the Ray cluster's CPUs (all of this
    process's cores outside Ray), at most the cores this process can run on."""
    available = len(os.sched_getaffinity(0))
    try:
        import ray

        if ray.is_initialized():
            share = ray.cluster_resources().get("CPU", 1.0) / max(1, runtime.fit_workers)
            return max(1, min(available, int(share)))
    except ImportError:
        pass
    return max(1, available)


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
