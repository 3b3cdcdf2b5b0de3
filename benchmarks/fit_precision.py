"""Does a faster MLP path change fit quality? The surface-error distribution on the development
meshes for each way of running the fit's MLP, against the torch path in fp32 (the reference):
issue 18 allows lower precision (TF32, bf16) only where that distribution is unchanged.

Every variant fits the same shapes from the same ground truth (computed once, in a pool of CPU
processes: benchmarks/ground_truth_pool.py) with the same preset, seed and sample streams, in
one group of all meshes; only the MLP path differs:
  torch            the engine's torch path in fp32 (reference)
  fused-<p>        FitConfig.mlp_kernel=fused, fused_precision=<p> (fp32, tf32x3, tf32, bf16)
  torch-autocast   the torch path under torch.autocast(bfloat16) (no config option: information)
Per variant: median, 93rd percentile and max surface error (Davies' mean |f| on surface points),
share below 0.003, fit seconds, and per mesh the ratio to the reference's error. Verdict, chosen
criterion: "unchanged" when the median per-mesh ratio lies in [0.95, 1.05] and the variant's
median and 93rd percentile lie within 10% of the reference's; otherwise "CHANGED".

The default budget is scaled down from Davies' (1M samples, 100 epochs) to fit a short GPU
check: 131,072 samples per shape from a 1.3M pool, at most 100 epochs (6,400 steps of 2048).

    python benchmarks/fit_precision.py --device cuda --json out.json       # 49 meshes, 5 variants
    .venv/bin/python benchmarks/fit_precision.py --device cpu --limit 2 --samples 4096 --pool 40000 \
        --epochs 2 --variants torch torch-autocast                          # a CPU dry run
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
from ground_truth_pool import Budget, GroundTruthPool, default_data, development_meshes

from inrzoo.fit import fit_batch, preset

VARIANTS = ["torch", "fused-fp32", "fused-tf32", "fused-bf16", "torch-autocast"]


def fit_variant(variant: str, truths: list, args) -> dict:
    kernel, _, precision = variant.partition("-")
    fused = kernel == "fused"
    cfg = preset(args.preset, seed=args.seed, device=args.device, max_epochs=args.epochs,
                 mlp_kernel="fused" if fused else "torch", fused_precision=precision if fused else "fp32")
    cfg.escalation.ladder = []  # one fit per shape: the comparison is of the MLP path alone
    autocast = torch.autocast(torch.device(args.device).type, dtype=torch.bfloat16) \
        if variant == "torch-autocast" else nullcontext()
    started = time.perf_counter()
    with autocast:
        result = fit_batch([t.samples for t in truths], cfg, surface=[t.surface for t in truths],
                           stream_ids=[t.index for t in truths])
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    errors = np.array([m["surface_error"] if s == "ok" else np.nan for m, s in zip(result.metrics, result.status)])
    return {"variant": variant, "kernel": sorted(set(result.kernels)), "fit_s": seconds,
            "errors": errors.tolist(), "epochs": [m.get("epochs", 0) for m in result.metrics],
            "failed": int(np.sum(np.isnan(errors)))}


def describe(row: dict, reference: dict | None) -> dict:
    e = np.asarray(row["errors"], dtype=float)
    ok = e[np.isfinite(e)]
    out = {"median": float(np.median(ok)), "p93": float(np.percentile(ok, 93)), "max": float(ok.max()),
           "below_0_003": float(np.mean(ok < 0.003))}
    if reference is not None and reference is not row:
        ref = np.asarray(reference["errors"], dtype=float)
        both = np.isfinite(e) & np.isfinite(ref)
        ratio = e[both] / ref[both]
        out.update(ratio_median=float(np.median(ratio)), ratio_min=float(ratio.min()), ratio_max=float(ratio.max()))
        ref_stats = describe(reference, None)
        unchanged = (0.95 <= out["ratio_median"] <= 1.05
                     and abs(out["median"] / ref_stats["median"] - 1) <= 0.10
                     and abs(out["p93"] / ref_stats["p93"] - 1) <= 0.10)
        out["verdict"] = "unchanged" if unchanged else "CHANGED"
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--data", type=Path, default=default_data())
    ap.add_argument("--folders", nargs="+", default=["printables", "classic"])
    ap.add_argument("--limit", type=int, default=0, help="meshes per folder (0 = all)")
    ap.add_argument("--preset", default="davies")
    ap.add_argument("--samples", type=int, default=131_072)
    ap.add_argument("--pool", type=int, default=1_310_720)
    ap.add_argument("--bound-grid", type=int, default=48, help="importance sampler bound grid (0: exact)")
    ap.add_argument("--surface-points", type=int, default=20_000)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--variants", nargs="+", default=VARIANTS)
    ap.add_argument("--workers", type=int, default=0, help="ground-truth processes (0: the CPUs less one)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    paths = development_meshes(args.data, args.folders, args.limit)
    workers = args.workers or max(1, len(os.sched_getaffinity(0)) - 1)
    budget = Budget(args.samples, args.pool, args.bound_grid, args.surface_points, args.seed)
    started = time.perf_counter()
    with GroundTruthPool(workers, budget) as pool:
        truths = pool.all(paths)
    print(f"{args.preset} preset, {len(paths)} meshes from {args.data} ({', '.join(args.folders)}); ground truth "
          f"{args.samples:,} samples from a {args.pool:,} pool, {args.surface_points:,} surface points: "
          f"{time.perf_counter() - started:.1f} s on {workers} processes; at most {args.epochs} epochs; "
          f"device {args.device}", flush=True)
    print(f"{'variant':>15} {'fit s':>7} {'median':>8} {'p93':>8} {'max':>8} {'<0.003':>6} {'ratio med':>9} "
          f"{'ratio min..max':>14} {'failed':>6}  verdict", flush=True)
    rows, reference = [], None
    for variant in args.variants:
        try:
            row = fit_variant(variant, truths, args)
        except Exception as exc:  # noqa: BLE001 - one variant failing (e.g. no triton) must not lose the others
            print(f"{variant:>15} failed: {type(exc).__name__}: {str(exc)[:200]}", flush=True)
            rows.append({"variant": variant, "error": f"{type(exc).__name__}: {exc}"})
            continue
        reference = reference or (row if variant == "torch" else None)
        row.update(describe(row, reference))
        rows.append(row)
        ratio = (f"{row['ratio_median']:>9.3f} {row['ratio_min']:>6.3f}..{row['ratio_max']:<6.3f}"
                 if "ratio_median" in row else f"{'-':>9} {'-':>14}")
        print(f"{variant:>15} {row['fit_s']:>7.1f} {row['median']:>8.5f} {row['p93']:>8.5f} {row['max']:>8.5f} "
              f"{row['below_0_003']:>6.0%} {ratio} {row['failed']:>6}  {row.get('verdict', 'reference')}", flush=True)
        if args.json:  # after every variant: a run cut short keeps what it measured
            with open(args.json, "w") as fh:
                json.dump({"args": {**vars(args), "data": str(args.data)}, "meshes": [t.name for t in truths],
                           "budget": dataclasses.asdict(budget), "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
