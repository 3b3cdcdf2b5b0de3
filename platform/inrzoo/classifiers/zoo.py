"""Building a zoo of trained image classifiers as a weight dataset (NetSpace's classifier zoo).

One row per trained instance, one architecture group per family (the folded `ClassifierSpec`,
so the dataset describes how to run every row); instances differ in seed and training length
(epochs spread geometrically from `min_epochs` to `max_epochs`, like the thesis's zoos of
networks stopped at increasing epochs). Each row records its test accuracy (meta metrics),
seed, epochs and steps. Rows are split train/val/test by instance index (i mod 5 = 3: val,
4: test), so every split spans the range of training lengths.

The dataset's write units (aligned chunks of rows) are trained by Ray tasks in parallel, each
capped at `runtime.cpus_per_task` CPUs and writing its own unit; rerunning resumes the rows
still pending. The resolved config is stored in the dataset's attributes.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from inrzoo import config as configlib
from inrzoo.classifiers.digits import LICENCE, SOURCE, load_digits_splits
from inrzoo.classifiers.training import InstanceTraining, train_instance
from inrzoo.inr import default_spec
from inrzoo.store import STATUS_CODES, RowResult, StoreError, WeightWriter

log = logging.getLogger(__name__)


@dataclass
class FamilySection:
    preset: str = "lenet"  # an inrzoo.inr classifier preset: lenet, plain_cnn, resnet8, resnet14
    batch_norm: bool = False  # train with BatchNorm2d after every convolution, store it folded
    instances: int = 30
    min_epochs: int = 1
    max_epochs: int = 60


def _default_families() -> list[FamilySection]:
    return [FamilySection("lenet"), FamilySection("plain_cnn"),
            FamilySection("resnet8", batch_norm=True), FamilySection("resnet14", batch_norm=True)]


@dataclass
class ZooOutput:
    uri: str = ""
    storage_options: dict[str, Any] = field(default_factory=dict)
    chunk_rows: int = 8  # the write unit: one Ray task trains one unit
    overwrite: bool = False


@dataclass
class ZooRuntime:
    executor: Literal["ray", "local"] = "ray"
    ray_address: str = ""
    object_store_memory: int | None = 200 * 1024 * 1024
    cpus_per_task: float = 1.0
    torch_threads: int = 1


@dataclass
class ClassifierZooConfig:
    families: list[FamilySection] = field(default_factory=_default_families)
    training: InstanceTraining = field(default_factory=InstanceTraining)
    data_seed: int = 0  # the digits split
    base_seed: int = 1000  # instance seeds are base_seed + row
    output: ZooOutput = field(default_factory=ZooOutput)
    runtime: ZooRuntime = field(default_factory=ZooRuntime)


def load_zoo_config(path: str | None, overrides: list[str] | tuple[str, ...] = ()) -> ClassifierZooConfig:
    cfg = configlib.load(ClassifierZooConfig, path, overrides)
    if not cfg.output.uri:
        raise configlib.ConfigError(f"{path or '<defaults>'}: output.uri is required")
    return cfg


def stored_spec(family: FamilySection):
    """The folded spec a family's rows are stored under (the registry preset, norm none)."""
    spec = default_spec(family.preset)
    if not hasattr(spec, "norm"):
        raise ValueError(f"classifier zoo: {family.preset!r} is not a classifier preset")
    return spec.replace(norm="none")


def epochs_schedule(family: FamilySection) -> list[int]:
    """Training lengths from min_epochs to max_epochs, geometrically spaced over the instances."""
    n, lo, hi = family.instances, family.min_epochs, family.max_epochs
    if n < 1 or lo < 1 or hi < lo:
        raise ValueError(f"classifier zoo {family.preset}: need instances >= 1 and 1 <= min_epochs <= max_epochs")
    if n == 1:
        return [hi]
    return [int(round(lo * (hi / lo) ** (i / (n - 1)))) for i in range(n)]


def zoo_listing(cfg: ClassifierZooConfig) -> list[dict[str, Any]]:
    """One listing item per instance: id, label (the preset), split, seed and epochs in meta."""
    items = []
    for family in cfg.families:
        for i, epochs in enumerate(epochs_schedule(family)):
            row = len(items)
            split = {3: "val", 4: "test"}.get(i % 5, "train")
            items.append({"id": f"{family.preset}-{i:03d}", "uri": "", "label": family.preset, "split": split,
                          "meta": {"family": family.preset, "batch_norm": family.batch_norm, "epochs": epochs,
                                   "seed": cfg.base_seed + row, "instance": i}})
    return items


def open_or_create_zoo(cfg: ClassifierZooConfig, listing: list[dict[str, Any]]) -> WeightWriter:
    out = cfg.output
    presets = [f.preset for f in cfg.families]
    if len(set(presets)) != len(presets):
        raise ValueError(f"classifier zoo: each preset may appear once, got {presets}")
    if not out.overwrite:
        try:
            writer = WeightWriter.open(out.uri, out.storage_options)
        except StoreError:
            writer = None
        if writer is not None:
            stored = [str(i) for i in writer.records["id"][:]]
            if stored != [item["id"] for item in listing] or writer.attrs["config"].get("families") != \
                    configlib.to_dict(cfg)["families"]:
                raise ValueError(f"{out.uri}: holds a different zoo (instances or families differ); "
                                 f"set output.overwrite=true or choose another output.uri")
            return writer
    return WeightWriter.create(
        out.uri, listing, [stored_spec(f) for f in cfg.families], chunk_rows=out.chunk_rows,
        config=configlib.to_dict(cfg), label_names=presets, storage_options=out.storage_options,
        overwrite=out.overwrite,
        collection={"name": "sklearn-digits-classifiers", "source": SOURCE, "licences": {"digits": LICENCE}},
    )


def train_unit(cfg: ClassifierZooConfig, start: int, stop: int, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Train the pending rows of one write unit and write them; one failed row fails alone."""
    import torch

    torch.set_num_threads(max(1, cfg.runtime.torch_threads))
    data = load_digits_splits(cfg.data_seed)
    families = {f.preset: f for f in cfg.families}
    results, failures = [], []
    for row, item in items:
        meta = item["meta"]
        family = families[meta["family"]]
        spec = stored_spec(family).replace(norm="batch" if family.batch_norm else "none")
        try:
            trained = train_instance(spec, meta["seed"], meta["epochs"], data, cfg.training)
        except Exception as exc:  # noqa: BLE001 - recorded in the row, the unit goes on
            log.exception("classifier zoo: row %d (%s) failed", row, item["id"])
            results.append(RowResult(row=row, status="failed", error=f"{type(exc).__name__}: {exc}"))
            failures.append(f"{row} {item['id']}: {exc}")
            continue
        metrics = dict(trained.metrics)
        metrics.pop("seed"), metrics.pop("epochs")
        results.append(RowResult(row=row, params=trained.params, arch=trained.spec, metrics=metrics,
                                 meta=dict(meta)))
    WeightWriter.open(cfg.output.uri, cfg.output.storage_options).write(range(start, stop), results)
    accuracies = [r.metrics["test_accuracy"] for r in results if r.status == "ok"]
    return {"rows": len(items), "ok": len(accuracies), "failed": len(failures), "failures": failures,
            "test_accuracies": accuracies}


def build_classifier_zoo(cfg: ClassifierZooConfig) -> dict[str, Any]:
    """Create (or resume) the zoo dataset at cfg.output.uri, train its pending rows, finalize it."""
    started = time.perf_counter()
    listing = zoo_listing(cfg)
    writer = open_or_create_zoo(cfg, listing)
    status = writer.records["status"][:]
    units = []
    for unit in writer.regions():
        todo = [(row, listing[row]) for row in unit if status[row] == STATUS_CODES["pending"]]
        if todo:
            units.append((unit.start, unit.stop, todo))
    total = sum(len(u[2]) for u in units)
    log.info("classifier zoo %s: %d instances to train in %d units (%d done before)",
             cfg.output.uri, total, len(units), len(listing) - total)
    done = ok = 0
    for summary in _execute(cfg, units):
        done += summary["rows"]
        ok += summary["ok"]
        rate = done / max(time.perf_counter() - started, 1e-9)
        log.info("classifier zoo: %d/%d instances (ok %d), ~%.0fs left", done, total, ok,
                 (total - done) / rate if rate > 0 else math.nan)
        for failure in summary["failures"]:
            log.warning("classifier zoo: failed row %s", failure)
    statistics = writer.finalize(
        title="Zoo of trained digit classifiers",
        description=(f"{len(listing)} image classifiers ({', '.join(f.preset for f in cfg.families)}) trained on "
                     f"scikit-learn's digits with varied seeds and training lengths, batch norm folded; "
                     f"per-row meta holds seed, epochs and the test accuracy (for NetSpace)."),
    )
    return {"uri": cfg.output.uri, "rows": len(listing), "trained": total, "seconds": time.perf_counter() - started,
            "statistics": statistics}


def _execute(cfg: ClassifierZooConfig, units: list):
    if cfg.runtime.executor == "local":
        for start, stop, items in units:
            yield train_unit(cfg, start, stop, items)
        return
    import ray

    from inrzoo.ray_cluster import ensure_ray

    ensure_ray(cfg.runtime.ray_address, cfg.runtime.object_store_memory)
    task = ray.remote(num_cpus=cfg.runtime.cpus_per_task)(train_unit)
    pending = [task.remote(cfg, start, stop, items) for start, stop, items in units]
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        yield ray.get(ready[0])
