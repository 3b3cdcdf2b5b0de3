"""Ray overhead of the conversion, and its throughput with 1 and 2 fitting workers.

Every configuration converts the same shapes with the same budget in a fresh process:
  local   the library loop in one process (runtime.executor=local), pinned to one core;
  ray-1c  Ray Data with one fitting worker, the whole Ray cluster pinned to the same core;
  ray-1w  Ray Data, one fitting worker (1 CPU) + prepare tasks, both cores;
  ray-2w  Ray Data, two fitting workers (0.5 CPU each) + prepare tasks, both cores.
Overhead = ray-1c / local - 1 (same core, same work; target <= 15%), with and without Ray's
start-up. Throughput is shapes per hour of each run. Weights must agree across all runs.

--one-unit: a conversion whose shapes fit in one work unit (chunk = shapes), both cores:
  serial    the unit fitted as one batch on one thread (fit_group_size=0, runtime.fit_threads=1:
            as before issue 13);
  parallel  the defaults: batches of fit_group_size shapes, one per core side by side.

    .venv/bin/python benchmarks/pipeline_overhead.py [--shapes 8] [--epochs 10] [--samples 100000]
    .venv/bin/python benchmarks/pipeline_overhead.py --one-unit --shapes 4
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "printables"
RUNS = {
    "local": (["runtime.executor=local"], "0"),
    "ray-1c": (["runtime.fit_workers=1", "runtime.cpus_per_fit_worker=0.5", "runtime.prepare_cpus=0.5"], "0"),
    "ray-1w": (["runtime.fit_workers=1", "runtime.cpus_per_fit_worker=1", "runtime.prepare_cpus=1"], None),
    "ray-2w": (["runtime.fit_workers=2", "runtime.cpus_per_fit_worker=0.5", "runtime.prepare_cpus=1"], None),
}


def one_run(args: argparse.Namespace) -> None:
    """Child process: start Ray (timed) unless local, convert, print JSON timings."""
    from inrzoo.pipeline import load_convert_config, run_conversion
    from inrzoo.pipeline.run import ensure_ray

    overrides = json.loads(args.overrides)
    cfg = load_convert_config(None, overrides)
    ray_start = 0.0
    if cfg.runtime.executor == "ray":
        started = time.perf_counter()
        ensure_ray(cfg)
        ray_start = time.perf_counter() - started
    report = run_conversion(cfg)
    print("RESULT " + json.dumps({"seconds": report.seconds, "ray_start": ray_start, "ok": report.ok,
                                  "shapes": report.scheduled_shapes}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=4)
    parser.add_argument("--one-unit", action="store_true", help="single-unit conversion: serial vs parallel")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--overrides", default="[]", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return one_run(args)

    work = Path(tempfile.mkdtemp(prefix="inrzoo-bench-"))
    source = work / "meshes"
    source.mkdir()
    for path in sorted(SHARED.glob("*.stl"), key=lambda p: p.stat().st_size)[: args.shapes]:
        (source / path.name).symlink_to(path)
    common = [f"source.uri={source}", "preset=davies", f"output.chunk_rows={args.chunk}",
              f"sampler.options.n={args.samples}", f"sampler.options.pool_size={10 * args.samples}",
              f"fit.max_epochs={args.epochs}", "fit.early_stopping.enabled=false", "fit.escalation.ladder=[]",
              "eval.surface_points=20000", "tracking.enabled=false", "source.options.label_from=none"]
    runs = RUNS
    if args.one_unit:
        common[2] = f"output.chunk_rows={args.shapes}"
        runs = {"serial": (["fit_group_size=0", "runtime.fit_threads=1"], None), "parallel": ([], None)}
    results = {}
    for name, (extra, cores) in runs.items():
        out = work / f"{name}.zarr"
        command = [sys.executable, __file__, "--child", "--overrides", json.dumps([*common, f"output.uri={out}", *extra])]
        if cores is not None:
            command = ["taskset", "-c", cores, *command]
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "RAY_AUTH_MODE": "disabled"})
        line = next((l for l in done.stdout.splitlines() if l.startswith("RESULT ")), None)
        if line is None:
            sys.exit(f"{name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        results[name] = json.loads(line[len("RESULT "):])
        results[name]["uri"] = str(out)
        print(f"{name:7s} {results[name]['seconds']:7.1f} s (Ray start {results[name]['ray_start']:.1f} s), "
              f"{3600 * results[name]['shapes'] / results[name]['seconds']:.1f} shapes/h", flush=True)

    _check_same_weights(results)
    if args.one_unit:
        serial, parallel = results["serial"]["seconds"], results["parallel"]["seconds"]
        print(f"\none unit of {args.shapes} shapes, {args.samples} samples, {args.epochs} epochs: serial {serial:.1f} s, "
              f"parallel {parallel:.1f} s, speed-up {serial / parallel:.2f}x")
        return
    local, pinned = results["local"]["seconds"], results["ray-1c"]["seconds"]
    print(f"\nshapes {args.shapes}, davies preset, {args.samples} samples, {args.epochs} epochs, units of {args.chunk}")
    print(f"Ray overhead on one core: {100 * (pinned / local - 1):+.1f}% "
          f"(with Ray start-up {100 * ((pinned + results['ray-1c']['ray_start']) / local - 1):+.1f}%; target <= 15%)")
    print(f"throughput 1 worker: {3600 * results['ray-1w']['shapes'] / results['ray-1w']['seconds']:.1f} shapes/h, "
          f"2 workers: {3600 * results['ray-2w']['shapes'] / results['ray-2w']['seconds']:.1f} shapes/h, "
          f"ratio {results['ray-1w']['seconds'] / results['ray-2w']['seconds']:.2f}x")


def _check_same_weights(results: dict) -> None:
    from inrzoo.store import open_weights

    reference = None
    for name, result in results.items():
        ds = open_weights(result["uri"], status=None)
        params = {n: np.asarray(a[:]) for n, a in ds.groups[0].arrays.items()}
        if reference is None:
            reference = params
            continue
        same = all(np.array_equal(params[n], reference[n]) for n in reference)
        print(f"weights of {name} equal to the first run's: {same}")


if __name__ == "__main__":
    main()
