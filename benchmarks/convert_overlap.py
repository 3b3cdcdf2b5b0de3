"""End-to-end conversion rate on one GPU machine: ground truth on CPU processes overlapped with
fitting on the GPU, next to the fit-only rate (issue 18, item 3).

A conversion on Ray runs the same two stages (pipeline/run.py: `prepare_unit` tasks on CPUs,
`FitWorker` actors holding a GPU each); a GPU machine without Ray gets the same overlap from a
process pool. Both stages use inrzoo's own functions: ground truth is fit_quality's `prepare`
(load, normalize, the preset's importance sampler and surface points; ground_truth_pool.py), the
fit is the engine's GroupFitter with the conversion's config.

Three timed phases:
  1. ground truth alone: the pool (--workers processes) works through the development meshes
     (repeated, each repeat its own seed) for --gt-seconds; shapes/hour of the pool.
  2. overlap: the GPU fits a group of K shapes made of the shapes phase 1 produced (repeated to
     fill K: the development meshes repeated to fill the batch) while the pool keeps producing;
     both rates measured side by side for --overlap-seconds.
  3. fit alone: the pool stopped, the GPU's time per step for --fit-seconds.
Shapes/hour of the fit follow from the preset's budget (davies: 100 epochs of 1M samples in
batches of 2048 = 48,800 steps per shape). The end-to-end rate is the steady state of the two
stages running together: min(ground-truth rate during fitting, fit rate during ground truth).
A group holds --fit-samples samples per shape (the first of each shape's samples; the cost of a
step does not depend on it, the memory does: K x 1M samples would not fit), so its epochs are
shorter than the budget's and their ends weigh a little more than in a real fit.

    python benchmarks/convert_overlap.py --device cuda --json out.json          # K 2048, davies
    .venv/bin/python benchmarks/convert_overlap.py --device cpu --k 8 --batch 256 --fit-samples 1024 \
        --samples 4096 --pool 40000 --bound-grid 0 --workers 1 --gt-seconds 20 --overlap-seconds 20 \
        --fit-seconds 5 --folders classic --limit 3                               # a CPU dry run
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import FIRST_COMPLETED, wait
from pathlib import Path

import numpy as np
import torch
from fit_timers import VARIANTS, Setting, fit_config
from ground_truth_pool import Budget, GroundTruthPool, default_data, development_meshes

from inrzoo.fit import make_loss, preset
from inrzoo.fit.engine import GroupFitter
from inrzoo.inr import build

DAVIES_SAMPLES, DAVIES_POOL = 1_000_000, 10_000_000  # jobs/configs/davies.yaml's importance sampler


class Producer:
    """Keeps the pool's queue full with the meshes in turn; counts the shapes it finished."""

    def __init__(self, pool: GroundTruthPool, paths: list[Path], depth: int):
        self.pool, self.paths, self.depth = pool, paths, depth
        self.pending: set = set()
        self.submitted = 0
        self.done: list = []  # (finish time, Truth)
        self.fill()

    def fill(self) -> None:
        while len(self.pending) < self.depth:
            self.pending.add(self.pool.submit(self.paths[self.submitted % len(self.paths)], self.submitted))
            self.submitted += 1

    def collect(self, timeout: float = 0.0) -> None:
        finished, self.pending = wait(self.pending, timeout=timeout, return_when=FIRST_COMPLETED)
        now = time.perf_counter()
        self.done += [(now, f.result()) for f in finished]
        self.fill()

    def count(self, start: float, stop: float) -> int:
        return sum(start <= t < stop for t, _ in self.done)


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def fitter_for(truths: list, args) -> GroupFitter:
    """A group of K shapes: the produced shapes repeated, their first --fit-samples samples."""
    setting = Setting(args.k, 1, args.batch, args.fit_samples // args.batch, args.device, -1, 1, "steps", args.preset)
    cfg = fit_config(setting, args.variant)
    chosen = [truths[i % len(truths)].samples for i in range(args.k)]
    points = [s.points[: args.fit_samples] for s in chosen]
    values = [s.values[: args.fit_samples] for s in chosen]
    return GroupFitter(build(cfg.arch), points, values, list(range(args.k)), make_loss(cfg.loss, "sdf"), cfg)


def timed_steps(fitter: GroupFitter, seconds: float, device: str, producer: Producer | None) -> tuple[int, float]:
    """Steps in chunks of 16 for about `seconds`; between chunks the producer collects (without
    waiting) and refills the pool, as a fitting actor's host thread would leave it alone."""
    synchronize(device)
    started = time.perf_counter()
    steps = 0
    while time.perf_counter() - started < seconds:
        fitter.advance(16)
        steps += 16
        if producer is not None:
            producer.collect()
        synchronize(device)
    return steps, time.perf_counter() - started


def budget_steps(args) -> int:
    cfg = preset(args.preset)
    return cfg.max_steps if cfg.max_steps > 0 else cfg.max_epochs * max(args.samples // args.batch, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--preset", default="davies")
    ap.add_argument("--variant", default="engine-fused" if torch.cuda.is_available() else "engine",
                    choices=sorted(v for v, spec in VARIANTS.items() if spec.loop == "engine" and not spec.autocast_bf16))
    ap.add_argument("--k", type=int, default=2048, help="shapes per fit group")
    ap.add_argument("--batch", type=int, help="default: the preset's")
    ap.add_argument("--fit-samples", type=int, default=65_536, help="samples per shape held by the fit group")
    ap.add_argument("--data", type=Path, default=default_data())
    ap.add_argument("--folders", nargs="+", default=["printables", "classic"])
    ap.add_argument("--limit", type=int, default=0, help="meshes per folder (0 = all)")
    ap.add_argument("--samples", type=int, help="ground-truth samples per shape (default: jobs/configs/davies.yaml's)")
    ap.add_argument("--pool", type=int, help="importance pool (default: jobs/configs/davies.yaml's)")
    ap.add_argument("--bound-grid", type=int, default=48)
    ap.add_argument("--surface-points", type=int, default=100_000, help="for the surface-error check, as a conversion")
    ap.add_argument("--workers", type=int, default=0, help="ground-truth processes (0: the CPUs less two)")
    ap.add_argument("--gt-seconds", type=float, default=25)
    ap.add_argument("--overlap-seconds", type=float, default=40)
    ap.add_argument("--fit-seconds", type=float, default=10)
    ap.add_argument("--json")
    args = ap.parse_args()
    args.samples = args.samples or DAVIES_SAMPLES
    args.pool = args.pool or DAVIES_POOL
    args.batch = args.batch or preset(args.preset).batch_size
    torch.set_num_threads(1)
    workers = args.workers or max(1, len(os.sched_getaffinity(0)) - 2)
    paths = development_meshes(args.data, args.folders, args.limit)
    steps_per_shape = budget_steps(args)
    print(f"{args.preset} preset, {args.variant} on {args.device}, K={args.k}; ground truth {args.samples:,} samples "
          f"from a {args.pool:,} pool (bound grid {args.bound_grid}) + {args.surface_points:,} surface points on "
          f"{workers} processes, {len(paths)} meshes repeated; {steps_per_shape:,} steps per shape", flush=True)
    budget = Budget(args.samples, args.pool, args.bound_grid, args.surface_points)
    out: dict = {"args": {**vars(args), "data": str(args.data)}, "workers": workers,
                 "steps_per_shape": steps_per_shape}
    with GroundTruthPool(workers, budget) as pool:
        # 1. ground truth alone (the first shapes also become the fit group's content)
        t0 = time.perf_counter()
        producer = Producer(pool, paths, depth=2 * workers)
        while time.perf_counter() - t0 < args.gt_seconds or not producer.done:
            producer.collect(timeout=1.0)
        t1 = time.perf_counter()
        alone = producer.count(t0, t1)
        cpu_s = float(np.mean([truth.seconds for _, truth in producer.done]))
        out["ground_truth_alone"] = {"shapes": alone, "seconds": t1 - t0, "shapes_per_hour": 3600 * alone / (t1 - t0),
                                     "cpu_s_per_shape": cpu_s}
        print(f"ground truth alone: {alone} shapes in {t1 - t0:.1f} s = {3600 * alone / (t1 - t0):,.0f} shapes/hour "
              f"({cpu_s:.2f} CPU s per shape in a worker, {3600 / cpu_s:,.0f} shapes/hour per core)", flush=True)
        # 2. overlap
        fitter = fitter_for([truth for _, truth in producer.done], args)
        fitter.advance(16)  # warm-up: kernels compiled, allocator settled
        t2 = time.perf_counter()
        steps, seconds = timed_steps(fitter, args.overlap_seconds, args.device, producer)
        t3 = time.perf_counter()
        during = producer.count(t2, t3)
        pool.close(wait=True)  # the shapes in the works finish; nothing new starts
    # 3. fit alone
    fit_alone_steps, fit_alone_s = timed_steps(fitter, args.fit_seconds, args.device, None)
    step_during, step_alone = seconds / steps, fit_alone_s / fit_alone_steps
    fit_rate = lambda step: 3600 * args.k / (step * steps_per_shape)  # noqa: E731
    gt_during = 3600 * during / (t3 - t2)
    out["overlap"] = {"ms_per_step": 1000 * step_during, "fit_shapes_per_hour": fit_rate(step_during),
                      "ground_truth_shapes": during, "ground_truth_shapes_per_hour": gt_during, "seconds": t3 - t2}
    out["fit_alone"] = {"ms_per_step": 1000 * step_alone, "fit_shapes_per_hour": fit_rate(step_alone)}
    end_to_end = min(gt_during, fit_rate(step_during))
    out["end_to_end_shapes_per_hour"] = end_to_end
    out["bottleneck"] = "ground truth" if gt_during < fit_rate(step_during) else "fit"
    out["cores_to_feed_the_fit"] = fit_rate(step_alone) * cpu_s / 3600
    out["kernel"] = fitter.kernel
    print(f"overlap: fit {1000 * step_during:.3f} ms/step = {fit_rate(step_during):,.0f} shapes/GPU-hour, ground truth "
          f"{during} shapes in {t3 - t2:.1f} s = {gt_during:,.0f} shapes/hour", flush=True)
    print(f"fit alone: {1000 * step_alone:.3f} ms/step = {fit_rate(step_alone):,.0f} shapes/GPU-hour ({fitter.kernel})",
          flush=True)
    print(f"end to end: {end_to_end:,.0f} shapes/hour on this machine (bound by {out['bottleneck']}); fit only: "
          f"{fit_rate(step_alone):,.0f}; feeding the fit alone takes {out['cores_to_feed_the_fit']:.1f} cores of this "
          f"machine's kind", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
