"""Fitting speed of a preset (davies by default: 8x32 ReLU + tanh, L1, Adam 1e-4): the fit engine
against a lean all-tensor loop of the same math, per step and as shapes per hour at the preset's
budget (Davies': 100 epochs of 1M samples in batches of 2048 = 48,800 steps per shape).

Engine: inrzoo.fit.engine.GroupFitter, as fit_batch runs it (counter-based sample streams,
per-shape epochs, schedules and stop decisions on the device, the synchronization points of a
real fit). Its steady-state time per step is measured inside an epoch (the best of --repeats
epochs, after one warm-up epoch; the machine is noisy and noise only ever adds time); the
epoch-end work (read back, stop decisions, next permutations) is timed on its own and spread
over the steps of a Davies epoch (1M samples per shape / batch). Shapes per hour then follow
from Davies' budget: 100 epochs of 1M samples in batches of 2048 = 48,800 steps per shape.

Lean loop: the same architecture, initialization, loss and torch.optim.Adam on one [K, P]
parameter tensor, batches drawn with torch.randint, nothing else (no epochs, no stopping
rules, no per-shape learning rates): the floor the torch path can approach. `ratio` is a
variant's time per step over the lean loop's, measured in the same run. Extras (--extras): the
fused kernel with tf32x3 / tf32 / bf16 products, the engine's torch path under bf16 autocast, the
lean loop with TF32 matmuls and with bf16 autocast: for information (lower precision must first
be shown not to change surface errors). --variants names any list instead (fit_timers.VARIANTS).
Each K runs in its own process(es), so that one that fails (out of memory) does not stop the
others; peak memory is that of the process's first variant.

    .venv/bin/python benchmarks/fit_speed.py                                 # CPU: K 16, 64; 1 and 2 threads
    .venv/bin/python benchmarks/fit_speed.py --ks 1024 --batch 16 --threads 1
    python benchmarks/fit_speed.py --device cuda --extras --json out.json    # K 1, 64, 512, 2048, 8192
    python benchmarks/fit_speed.py --device cuda --preset fast --variants engine engine-fused lean

Needs torch and numpy only (plus the repository: PYTHONPATH=platform without an install).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import torch
from fit_timers import VARIANTS, Setting, worker

from inrzoo.fit import preset

DAVIES_SAMPLES = 1_000_000
CUDA_KS = [1, 64, 512, 2048, 8192]
EXTRAS = ["engine-fused-tf32x3", "engine-fused-tf32", "engine-fused-bf16", "engine-bf16", "lean-tf32", "lean-bf16"]


def run_group(variants: list[str], setting: Setting) -> dict[str, dict]:
    """One process timing `variants` together; {variant: row}, rows with "error" if it failed."""
    env = dict(os.environ)
    if setting.device == "cpu" and any(VARIANTS[v].kernel == "fused" for v in variants):
        env.setdefault("TRITON_INTERPRET", "1")  # the fused kernel on CPU: Triton's interpreter
    cmd = [sys.executable, __file__, "--worker", ",".join(variants), json.dumps(dataclasses.asdict(setting))]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return {v: {"variant": v, "k": setting.k, "threads": setting.threads, "error": tail[0][:160]} for v in variants}
    return {row["variant"]: row for row in json.loads(done.stdout.strip().splitlines()[-1])}


def budget(args) -> tuple[int, int]:
    """(steps per shape, steps per epoch) of the preset at args.samples samples per shape."""
    cfg = preset(args.preset)
    epoch = max(args.samples // args.batch, 1)
    steps = args.budget_steps or (cfg.max_steps if cfg.max_steps > 0 else cfg.max_epochs * epoch)
    return steps, epoch


def summarize(row: dict, lean: dict | None, alone: dict | None, steps: int, epoch: int) -> dict:
    """Per-step time with the epoch end spread over `epoch` steps, shapes/hour at `steps` steps
    per shape, ratio to the lean loop."""
    per_step = row["step_s"] + row["epoch_end_s"] / epoch
    out = {**row, "ms_per_step": 1000 * per_step, "shapes_per_hour": 3600 * row["k"] / (per_step * steps),
           "budget_steps": steps}
    if lean and "error" not in lean and row is not lean:
        out["ratio_to_lean"] = per_step / lean["step_s"]
    if alone and alone is not row and "first_params" in row and "first_params" in alone \
            and alone["steps_done"] == row["steps_done"]:
        out["max_abs_dw_vs_k1"] = max(
            float(np.max(np.abs(np.asarray(row["first_params"][n]) - np.asarray(alone["first_params"][n]))))
            for n in alone["first_params"])
    out.pop("first_params", None)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu", help="cpu or cuda (default K then 1 64 512 2048 8192)")
    ap.add_argument("--ks", type=int, nargs="+", help="K = 1 (if given) runs first: the batched = alone check")
    ap.add_argument("--threads", type=int, nargs="+", help="torch CPU threads (default 1 2 on CPU, 1 on CUDA)")
    ap.add_argument("--preset", default="davies", help="fit preset whose architecture, loss and budget are timed")
    ap.add_argument("--batch", type=int, help="default: the preset's batch size")
    ap.add_argument("--samples", type=int, default=DAVIES_SAMPLES, help="samples per shape in the budget's epochs")
    ap.add_argument("--budget-steps", type=int, default=0, help="steps per shape (default: from the preset)")
    ap.add_argument("--epoch-steps", type=int, default=32, help="samples per shape in the timed loop = batch x this")
    ap.add_argument("--chunk", type=int, default=-1, help="FitConfig.shape_chunk (-1 auto, 0 all K at once)")
    ap.add_argument("--repeats", type=int, default=3, help="timed epochs per configuration; the best counts")
    ap.add_argument("--extras", action="store_true", help=f"also {', '.join(EXTRAS)} (for information)")
    ap.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), help="exactly these variants")
    ap.add_argument("--separate", action=argparse.BooleanOptionalAction, default=None,
                    help="engine variants and lean-loop variants in two processes (default on CUDA: memory) "
                         "instead of all interleaved in one (default on CPU: a shared machine's load falls on "
                         "all alike)")
    ap.add_argument("--json", help="also write every row to this JSON file")
    ap.add_argument("--method", choices=["steps", "fit_batch"], default="steps",
                    help="engine timing: steps (GroupFitter, epoch ends timed apart) or fit_batch (long fit minus "
                         "short fit, works with any engine version)")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0].split(","), Setting(**json.loads(args.worker[1])))))
        return
    cuda = args.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        sys.exit(f"--device {args.device}: torch {torch.__version__} sees no CUDA device")
    args.batch = args.batch or preset(args.preset).batch_size
    ks = args.ks or (CUDA_KS[::-1] if cuda else [16, 64])
    ks = [1] + [k for k in ks if k != 1] if 1 in ks else ks
    threads = args.threads or ([1] if cuda else [1, 2])
    fused = importlib.util.find_spec("triton") is not None and cuda
    variants = args.variants or (["engine"] + (["engine-fused"] if fused else []) + ["lean"] + (EXTRAS if args.extras else []))
    steps, epoch = budget(args)
    name = torch.cuda.get_device_name() if cuda else "cpu"
    print(f"{args.preset} preset on {name}, torch {torch.__version__}; batch {args.batch}, "
          f"{args.batch * args.epoch_steps:,} samples per shape ({args.epoch_steps} steps per epoch); epoch ends "
          f"spread over an epoch of {epoch} steps ({args.samples:,} samples); {steps:,} steps per shape", flush=True)
    print(f"{'threads':>7} {'variant':>19} {'K':>5} {'step ms':>9} {'epoch-end ms':>12} {'ms/step':>9} "
          f"{'shapes/hour':>11} {'ratio':>6} {'setup s':>7} {'MiB/INR':>8} {'|dw| vs K=1':>11}", flush=True)
    separate = cuda if args.separate is None else args.separate
    engines = [v for v in variants if VARIANTS[v].loop == "engine"]
    groups = [g for g in ([engines, [v for v in variants if v not in engines]] if separate else [variants]) if g]
    rows = []
    for t in threads:
        alone: dict[str, dict] = {}  # K = 1 rows: each engine variant's batched = alone check
        for k in ks:
            setting = Setting(k, t, args.batch, args.epoch_steps, args.device, args.chunk, args.repeats, args.method,
                              args.preset)
            measured = {v: row for group in groups for v, row in run_group(group, setting).items()}
            if k == 1:
                alone = measured
            for variant in variants:
                row = measured[variant]
                if "error" in row:
                    print(f"{t:>7} {variant:>19} {k:>5} failed: {row['error']}", flush=True)
                    rows.append(row)
                    continue
                row = summarize(row, measured.get("lean"), alone.get(variant), steps, epoch)
                rows.append(row)
                ratio = f"{row['ratio_to_lean']:>5.2f}x" if "ratio_to_lean" in row else f"{'-':>6}"
                dw = f"{row['max_abs_dw_vs_k1']:>11.1e}" if "max_abs_dw_vs_k1" in row else f"{'-':>11}"
                setup = f"{row['setup_s']:>7.2f}" if variant in engines else f"{'-':>7}"
                mib = f"{row['peak_mib_per_inr']:>8.2f}" if "peak_mib_per_inr" in row else f"{'-':>8}"
                print(f"{t:>7} {variant:>19} {k:>5} {1000 * row['step_s']:>9.3f} {1000 * row['epoch_end_s']:>12.2f} "
                      f"{row['ms_per_step']:>9.3f} {row['shapes_per_hour']:>11,.0f} {ratio} {setup} "
                      f"{mib} {dw}", flush=True)
            if args.json:  # after every K: a run cut short keeps what it measured
                with open(args.json, "w") as fh:
                    json.dump({"device": name, "torch": torch.__version__, "args": vars(args), "rows": rows}, fh,
                              indent=1)


if __name__ == "__main__":
    main()
