"""The conversion: listing -> Ray Data (prepare tasks -> fitting actor pool -> region writes) -> finalize.

Every stage is a plain function of inrzoo.pipeline; this module only creates (or resumes) the
dataset, distributes the pending work units with Ray Data, reports progress and finalizes.
Re-running the same conversion resumes it: only units with pending rows are scheduled.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from inrzoo import collections as shape_collections
from inrzoo import ray_cluster
from inrzoo.logs import show_progress
from inrzoo.pipeline.augment import expand_listing
from inrzoo.pipeline.config import ConvertConfig, ResolvedConversion, resolve
from inrzoo.pipeline.fit_stage import FitWorker, UnitBatchWorker
from inrzoo.pipeline.prepare import pack, prepare_shape
from inrzoo.pipeline.progress import Progress
from inrzoo.pipeline.resume import open_or_create
from inrzoo.pipeline.retry import store_name, with_retries
from inrzoo.store import STATUS_CODES

log = logging.getLogger(__name__)


@dataclass
class ConversionReport:
    uri: str
    rows: int
    ok: int
    failed: int
    pending: int
    scheduled_shapes: int
    seconds: float
    surface_errors: np.ndarray
    failures: list[str] = field(default_factory=list)
    statistics: dict[str, Any] = field(default_factory=dict)
    mlflow_run_id: str | None = None
    tracking_uri: str | None = None

    @property
    def shapes_per_hour(self) -> float:
        return 3600.0 * self.scheduled_shapes / self.seconds if self.seconds > 0 else math.nan


def list_shapes(cfg: ConvertConfig) -> list[dict[str, Any]]:
    src = cfg.source
    options = {"follow_links": src.follow_links, **src.options}  # the source section's switch, unless the options set it
    collection = shape_collections.get(src.collection, src.uri, storage_options=src.storage_options, **options)
    refs = [ref.to_dict() for ref in collection.list()]
    return expand_listing(refs[: src.limit] if src.limit > 0 else refs, cfg.augment)


def prepare_unit(unit: dict[str, Any], conv: ResolvedConversion) -> dict[str, Any]:
    """Ray Data map: the rows of one unit -> their prepared shapes, packed (CPU work, no fitting)."""
    show_progress()  # in a Ray worker: this process's lines reach the driver's log (log_to_driver)
    started = time.perf_counter()
    prepared = [prepare_shape(ref, int(row), conv) for row, ref in zip(unit["rows"], unit["refs"])]
    failed = sum(p.status != "ok" for p in prepared)
    log.info("prepared rows %d:%d for fitting (%d ok, %d failed) in %.1f s", unit["start"], unit["stop"],
             len(prepared) - failed, failed, time.perf_counter() - started)
    return {"start": unit["start"], "stop": unit["stop"], "prepared": pack(prepared)}


def ensure_ray(cfg: ConvertConfig) -> None:
    """The job's Ray: runtime.ray_address, else the submitted job's cluster, else a local one."""
    ray_cluster.ensure_ray(cfg.runtime.ray_address, cfg.runtime.object_store_memory)


def gpus_per_worker(cfg: ConvertConfig) -> float:
    import ray

    if cfg.runtime.gpus_per_fit_worker >= 0:
        return cfg.runtime.gpus_per_fit_worker
    return 1.0 if ray.cluster_resources().get("GPU", 0) >= 1 else 0.0


def run_conversion(cfg: ConvertConfig, tracker: Any | None = None) -> ConversionReport:
    """Convert (or resume converting) `cfg.source` into the dataset at `cfg.output.uri`."""
    started = time.perf_counter()
    conv = resolve(cfg)
    refs = list_shapes(cfg)
    out = cfg.output
    store = store_name(out.uri, out.storage_options)
    writer = with_retries(lambda: open_or_create(conv, refs), "create or open the dataset", store,
                          cfg.runtime.store_retries, cfg.runtime.store_backoff_s)
    units = _work_items(writer, refs, retry_failed=out.retry_failed)
    if cfg.runtime.schedule == "labels":
        units = labels_round_robin(units)
    scheduled = sum(len(u["rows"]) for u in units)
    # The first shape-level line: right after the listing, before Ray starts (seconds in).
    log.info("[inrzoo] listed %d shapes: %d rows to fit in %d units (%d done before)%s", len(refs), scheduled,
             len(units), writer.num_rows - scheduled, ", fitting..." if units else "; nothing to fit")
    progress = Progress(total=scheduled, already_done=writer.num_rows - scheduled)
    for summary in _execute(units, conv):
        progress.update(summary)
        if tracker is not None:
            tracker.log_progress(progress)
    statistics = with_retries(lambda: writer.finalize(previews=True), "finalize the dataset", store,
                              cfg.runtime.store_retries, cfg.runtime.store_backoff_s)
    status = writer.records["status"][:]
    return ConversionReport(
        uri=out.uri,
        rows=writer.num_rows,
        ok=int(np.sum(status == STATUS_CODES["ok"])),
        failed=int(np.sum(status == STATUS_CODES["failed"])),
        pending=int(np.sum(status == STATUS_CODES["pending"])),
        scheduled_shapes=scheduled,
        seconds=time.perf_counter() - started,
        surface_errors=_stored_surface_errors(writer),
        failures=progress.failures,
        statistics=statistics,
    )


def _execute(units: list[dict[str, Any]], conv: ResolvedConversion) -> Iterator[dict[str, Any]]:
    """Unit summaries as units finish: on Ray Data, or in this process (runtime.executor=local)."""
    if not units:
        return
    cfg = conv.config
    if cfg.runtime.executor == "local":
        worker = FitWorker(conv)
        step = cfg.runtime.units_per_fit
        for first in range(0, len(units), step):
            yield from worker.fit_units([prepare_unit(unit, conv) for unit in units[first:first + step]])
        return
    import ray

    ensure_ray(cfg)
    quiet_ray_data(cfg)
    gpus = gpus_per_worker(cfg)
    if gpus > 0:
        conv = resolve_on_device(conv, "cuda")
    ds = ray.data.from_items(units, override_num_blocks=len(units))
    # The memory reservation (a 10M-point pool with its distances) also keeps Ray from fusing
    # prepare into the fitting actors, which would idle their GPUs while meshes load.
    ds = ds.map(prepare_unit, fn_kwargs={"conv": conv}, num_cpus=cfg.runtime.prepare_cpus,
                memory=cfg.runtime.prepare_memory)
    fitting = dict(fn_constructor_kwargs={"conv": conv},
                   compute=ray.data.ActorPoolStrategy(size=cfg.runtime.fit_workers),
                   num_cpus=cfg.runtime.cpus_per_fit_worker, num_gpus=gpus)
    if cfg.runtime.units_per_fit > 1:
        # Prepared units reach an actor units_per_fit at a time (the last batch may hold fewer).
        ds = ds.map_batches(UnitBatchWorker, batch_size=cfg.runtime.units_per_fit, batch_format="pandas", **fitting)
    else:
        ds = ds.map(FitWorker, **fitting)
    # Each unit's summary as soon as its block is out: iter_rows prefetches a block, which held
    # every unit's progress line back until the next unit had finished too.
    for batch in ds.iter_batches(batch_size=None, prefetch_batches=0, batch_format="pandas"):
        yield from batch.to_dict("records")


def quiet_ray_data(cfg: ConvertConfig) -> None:
    """Ray Data's progress report (every operator's tasks and resources, every few seconds) off
    unless runtime.ray_progress or INRZOO_RAY_PROGRESS=1: inrzoo logs shape-level lines (listing,
    prepared units, fit progress, finished units). Ray Data says once, as a warning, that its
    bars are off; that is no problem, so its progress logger only passes errors.

    One alarming line is Ray's and cannot be turned off alone (it is a C++ log line), so it is
    explained in the log before it comes: core_worker's "constructor arguments in the object
    store and max_restarts > 0". Every Ray Data actor pool passes its operator's arguments by
    reference (ray-project/ray#57733), and the operator holds them while it runs, so actor
    restarts (kept: a fitting actor killed for memory is replaced) still find them."""
    from ray.data import DataContext

    shown = cfg.runtime.ray_progress or os.environ.get("INRZOO_RAY_PROGRESS", "0") not in ("", "0")
    DataContext.get_current().enable_progress_bars = shown
    logging.getLogger("ray.data._internal.progress").setLevel(logging.NOTSET if shown else logging.ERROR)
    log.info("[inrzoo] Ray logs a core_worker error \"... max_restarts > 0\" as the fitting actors start: a known "
             "Ray Data message (ray-project/ray#57733), not a problem here%s",
             "" if shown else "; Ray Data progress lines are off (runtime.ray_progress=true shows them)")


def resolve_on_device(conv: ResolvedConversion, device: str) -> ResolvedConversion:
    cfg = conv.config
    return resolve(dataclasses.replace(cfg, fit={**cfg.fit, "device": device}))


def _work_items(writer: Any, refs: list[dict[str, Any]], retry_failed: bool) -> list[dict[str, Any]]:
    """One item per aligned unit that holds rows to fit (pending, or failed when retrying)."""
    status = writer.records["status"][:]
    todo = status == STATUS_CODES["pending"]
    if retry_failed:
        todo |= status == STATUS_CODES["failed"]
    by_id = {ref["id"]: ref for ref in refs}
    ids = writer.records["id"][:]
    items = []
    for unit in writer.regions():
        rows = [row for row in unit if todo[row]]
        if rows:
            items.append({"start": unit.start, "stop": unit.stop, "rows": rows,
                          "refs": [by_id[str(ids[row])] for row in rows]})
    return items


def labels_round_robin(units: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The units reordered: the first unit of each label (the label of its first row), then the
    second of each, ...; labels in order of first appearance, units of one label in listing order."""
    by_label: dict[Any, list[dict[str, Any]]] = {}
    for unit in units:
        by_label.setdefault(unit["refs"][0].get("label"), []).append(unit)
    queues = list(by_label.values())
    return [queue[k] for k in range(max(map(len, queues), default=0)) for queue in queues if k < len(queue)]


def _stored_surface_errors(writer: Any) -> np.ndarray:
    errors = np.asarray(writer.records["surface_error"][:], dtype=np.float64)
    ok = writer.records["status"][:] == STATUS_CODES["ok"]
    return errors[ok & np.isfinite(errors)]
