"""Fitting speed: shapes per hour with the davies preset, batched K INRs against a
one-shape-at-a-time loop of the same code, and peak memory per INR being fitted.

Equal quality by construction: a batched fit gives every shape exactly the weights it gets
alone (tests/fit/test_batched_equivalence.py); this script re-checks it on the first shapes
and prints the largest parameter difference. Throughput is the steady-state time per step
(early stopping off; a short fit's time subtracted from a long one's, so one-off setup
cancels) extrapolated to the davies budget (100 epochs of 1M samples in batches of 2048 =
48,800 steps per shape; early stopping shortens loop and batch alike); the setup column
shows what was subtracted. Each configuration runs in its own process so peak RSS is its own.

    .venv/bin/python benchmarks/fit_speed.py                       # K in 16, 64; 1 and 2 threads
    .venv/bin/python benchmarks/fit_speed.py --ks 16 --threads 1 --steps 30
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time

import numpy as np
import torch

from inrzoo.fit import fit_batch, preset
from inrzoo.sampling import Samples

DAVIES_STEPS_PER_SHAPE = 100 * (1_000_000 // 2048)


def _rss_kib() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))


def synthetic_shapes(k: int, n: int) -> list[Samples]:
    """Sphere SDFs of varied radius and centre (the content does not change the cost of a step)."""
    shapes = []
    for i in range(k):
        rng = np.random.default_rng(i)
        pts = rng.uniform(-1, 1, (n, 3)).astype(np.float32)
        centre = rng.uniform(-0.2, 0.2, 3)
        shapes.append(Samples(pts, np.linalg.norm(pts - centre, axis=1) - rng.uniform(0.2, 0.6), "sdf"))
    return shapes


def _fit(mode: str, shapes: list[Samples], cfg) -> list[dict]:
    if mode == "loop":
        return [fit_batch([s], cfg, stream_ids=[i]).shape_params[0] for i, s in enumerate(shapes)]
    return fit_batch(shapes, cfg, stream_ids=list(range(len(shapes)))).shape_params


def worker(mode: str, k: int, threads: int, steps: int, n: int, chunk: int, repeats: int) -> dict:
    """Steady-state time per shape-step: a fit of `steps` steps minus a fit of steps // 4, so
    the one-off setup (sample copies, first permutations, initialization) cancels out; both
    after an untimed warm-up fit, each the best of `repeats` (the machine is shared and noisy,
    and noise only ever adds time)."""
    torch.set_num_threads(threads)
    shapes = synthetic_shapes(k, n)
    base = _rss_kib()
    seconds = {steps // 4: math.inf, steps: math.inf}
    # A first short fit warms the allocator and caches; it is not timed.
    for s in [2] + [steps // 4, steps] * repeats:
        cfg = preset("davies", max_epochs=0, max_steps=s, shape_chunk=chunk)
        cfg.early_stopping.enabled = False
        start = time.perf_counter()
        params = _fit(mode, shapes, cfg)
        seconds[s] = min(seconds.get(s, math.inf), time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    per_step = (seconds[steps] - seconds[steps // 4]) / (steps - steps // 4)
    setup = max(seconds[steps // 4] - per_step * (steps // 4), 0.0)
    return {
        "mode": mode, "k": k, "threads": threads, "chunk": chunk, "steps": steps,
        "ms_per_shape_step": 1000 * per_step / k,
        "setup_s_per_shape": setup / k,
        # The loop holds one INR at a time; a batch holds k.
        "peak_mib_per_inr": max(peak - base, 0) / 1024 / (1 if mode == "loop" else k),
        "first_params": {name: v.numpy().tolist() for name, v in params[0].items()},
    }


def run_one(mode: str, k: int, threads: int, steps: int, n: int, chunk: int, repeats: int) -> dict:
    cmd = [sys.executable, __file__, "--worker", mode, str(k), str(threads), str(steps), str(n), str(chunk), str(repeats)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ks", type=int, nargs="+", default=[16, 64])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--loop-shapes", type=int, default=8, help="shapes timed in the one-at-a-time loop")
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--chunks", type=int, nargs="+", default=[-1],
                    help="FitConfig.shape_chunk values for the batched runs (-1 auto, 0 all K at once)")
    ap.add_argument("--repeats", type=int, default=3, help="timed repetitions per configuration; the best counts")
    ap.add_argument("--worker", nargs=7, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        mode, *numbers = args.worker
        print(json.dumps(worker(mode, *map(int, numbers))))
        return
    print(f"davies preset, {args.steps} steps per shape, {args.samples:,} samples per shape, batch 2048; "
          f"torch {torch.__version__}, {torch.get_num_threads()} default threads")
    print(f"{'threads':>7} {'mode':>8} {'K':>4} {'chunk':>5} {'ms/shape-step':>14} {'shapes/hour':>12} {'ratio':>7} "
          f"{'setup s/shape':>13} {'peak MiB/INR':>13} {'max |dw| vs loop':>17}")
    for threads in args.threads:
        loop = run_one("loop", args.loop_shapes, threads, args.steps, args.samples, -1, args.repeats)
        rows = [loop] + [run_one("batch", k, threads, args.steps, args.samples, c, args.repeats)
                         for k in args.ks for c in args.chunks]
        for row in rows:
            per_hour = 3600 / (row["ms_per_shape_step"] / 1000 * DAVIES_STEPS_PER_SHAPE)
            ratio = loop["ms_per_shape_step"] / row["ms_per_shape_step"]
            diff = max(
                float(np.max(np.abs(np.asarray(row["first_params"][n]) - np.asarray(loop["first_params"][n]))))
                for n in loop["first_params"]
            )
            label = "loop" if row["mode"] == "loop" else "batched"
            chunk = {-1: "auto", 0: "all"}.get(row["chunk"], str(row["chunk"])) if row["mode"] != "loop" else "-"
            print(f"{threads:>7} {label:>8} {row['k']:>4} {chunk:>5} {row['ms_per_shape_step']:>14.3f} {per_hour:>12.1f} "
                  f"{ratio:>6.2f}x {row['setup_s_per_shape']:>13.3f} {row['peak_mib_per_inr']:>13.1f} {diff:>17.2e}", flush=True)


if __name__ == "__main__":
    main()
