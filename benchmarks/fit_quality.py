"""Fit quality and cost on real meshes, per fit preset: surface error distribution (median,
93rd percentile, max) next to Davies et al.'s "93% below 0.003, none above 0.01", Chamfer-L1
of the zero level set against the original (both in the normalized frame: the unit sphere),
and seconds per shape for ground truth (importance sampling), fit and check.

Reads ../shared/data (printables: 30 meshes, classic: 19) through inrzoo.geometry, samples
with inrzoo.sampling's Davies importance sampler and fits with inrzoo.fit in batches of K.
The defaults are the paper's budget (1M samples from a 10M pool, up to 100 epochs): about 90
minutes for the 49 meshes with --k 17 --threads 2 on a 2-core CPU (before the bounded
sampler). The flags shrink it, and the header prints the budget used.

Chamfer: --chamfer points (default) takes level-set points from a coarse grid refined near the
surface (inrzoo.metrics.field_chamfer); grid samples a --resolution^3 marching-cubes mesh (the
older check); both prints the two side by side with their times.

    .venv/bin/python benchmarks/fit_quality.py --limit 6 --samples 200000 --pool 2000000 \
        --epochs 20 --resolution 128
    .venv/bin/python benchmarks/fit_quality.py --limit 2 --epochs 10 --chamfer both    # old vs new check
    .venv/bin/python benchmarks/fit_quality.py --presets fast davies --escalate fast --k 1 --jobs 2   # issue 13
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

from inrzoo import geometry, metrics, sampling
from inrzoo.fit import fit_batch, preset
from inrzoo.inr import build
from inrzoo.pipeline.config import PAIRINGS

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
EXTENSIONS = (".stl", ".off", ".ply", ".obj")


def mesh_paths(data: Path, folders: list[str], limit: int, offset: int = 0) -> list[Path]:
    paths = []
    for folder in folders:
        found = sorted(p for p in (data / folder).iterdir() if p.suffix.lower() in EXTENSIONS)[offset:]
        paths += found[:limit] if limit > 0 else found
    return paths


def sampler_sizes(name: str, args) -> tuple[int, int]:
    """(samples, pool) for preset `name`: the flags, else the conversion pairing's, else Davies'."""
    paired = dict(PAIRINGS[name].sampler_options) if name in PAIRINGS else {}
    return (args.samples or paired.get("n", 1_000_000), args.pool or paired.get("pool_size", 10_000_000))


def prepare(path: Path, index: int, args, sizes: tuple[int, int]) -> tuple:
    shape, _ = geometry.normalize(geometry.load(str(path)), mode="sphere")
    rng = np.random.default_rng([args.seed, index])
    sampler = sampling.get("importance", n=sizes[0], pool_size=sizes[1], bound_grid=args.bound_grid)
    samples = sampler.sample(shape, rng)
    surface, _ = geometry.surface_samples(shape, args.surface_points, rng)
    return shape, samples, surface


def evaluate(result, k: int, shape, surface: np.ndarray, args) -> dict:
    """Surface error and Chamfer of shape k, each check with its time."""
    spec = result.arch[k]
    module = build(spec).as_module(result.shape_params[k]).eval()
    f = lambda x: module(torch.as_tensor(x)).detach()  # noqa: E731
    started = time.perf_counter()
    err = metrics.surface_error(f, shape, n=args.surface_points, rng=12345)
    row = {"surface_error": err, "arch": spec.label, "epochs": result.metrics[k]["epochs"],
           "steps": result.metrics[k]["steps"], "stop": result.stop_reasons[k], "check_s": time.perf_counter() - started}
    methods = ["points", "grid"] if args.chamfer == "both" else [args.chamfer]
    for method in methods:
        started = time.perf_counter()
        scores = metrics.field_chamfer(module, surface, n=args.chamfer_points, method=method,
                                       resolution=args.resolution, rng=7)
        row[f"chamfer_{method}"] = scores["chamfer"]
        row[f"{method}_s"] = time.perf_counter() - started
    row["check_s"] += row[f"{methods[0]}_s"]
    return row


def fit_group(name: str, start: int, group: list[Path], args) -> list[dict]:
    """Ground truth, fit and check of one group of meshes with one preset; a row per fitted shape."""
    torch.set_num_threads(args.threads)
    cfg = preset(name, max_epochs=args.epochs, seed=args.seed) if args.epochs else preset(name, seed=args.seed)
    if name not in args.escalate:
        cfg.escalation.ladder = []
    t0 = time.perf_counter()
    prepared = [prepare(p, start + j, args, sampler_sizes(name, args)) for j, p in enumerate(group)]
    t1 = time.perf_counter()
    result = fit_batch([s for _, s, _ in prepared], cfg, surface=[srf for _, _, srf in prepared],
                       stream_ids=list(range(start, start + len(group))))
    t2 = time.perf_counter()
    rows = []
    for j, (path, (shape, _, surface)) in enumerate(zip(group, prepared)):
        if result.status[j] != "ok":
            print(f"{name}: {path.parent.name}/{path.name}: FAILED {result.errors[j]}", flush=True)
            continue
        row = evaluate(result, j, shape, surface, args)
        row.update(name=f"{path.parent.name}/{path.name}", gt_s=(t1 - t0) / len(group), fit_s=(t2 - t1) / len(group))
        rows.append(row)
        chamfers = "  ".join(f"chamfer-L1 ({m}) {row['chamfer_' + m]:.5f} in {row[m + '_s']:.1f} s"
                             for m in ("points", "grid") if "chamfer_" + m in row)
        print(f"{name:<7} {row['name']:<45} {row['arch']:<14} epochs {row['epochs']:>3} steps {row['steps']:>6} "
              f"({row['stop']})  surface error "
              f"{row['surface_error']:.5f}  {chamfers}", flush=True)
    print(f"  {name}: group of {len(group)}: ground truth {t1 - t0:.0f} s, fitting {t2 - t1:.0f} s "
          f"({(t2 - t1) / len(group):.0f} s per shape), checks {time.perf_counter() - t2:.0f} s", flush=True)
    return rows


def run_presets(paths: list[Path], args) -> dict[str, list[dict]]:
    """Every preset on every group of K meshes; with --jobs N the groups of all presets share N
    processes (each with --threads torch threads), so the times per shape stay per process."""
    tasks = [(name, start, paths[start : start + args.k]) for name in args.presets
             for start in range(0, len(paths), args.k)]
    if args.jobs <= 1:
        done = [fit_group(*task, args) for task in tasks]
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(args.jobs, mp_context=context) as pool:
            done = list(pool.map(fit_group, *zip(*tasks), [args] * len(tasks)))
    results: dict[str, list[dict]] = {name: [] for name in args.presets}
    for (name, _, _), rows in zip(tasks, done):
        results[name] += rows
    return results


def summarize(name: str, rows: list[dict], args) -> str:
    errors = np.array([r["surface_error"] for r in rows])
    if not len(errors):
        return f"{name}: no shape fitted"
    lines = [f"{name}: surface error over {len(errors)} shapes: median {np.median(errors):.5f}, 93rd percentile "
             f"{np.percentile(errors, 93):.5f}, max {errors.max():.5f}; below 0.003: {np.mean(errors < 0.003):.0%}, "
             f"above 0.01: {int(np.sum(errors > 0.01))}   (Davies et al.: 93% below 0.003, none above 0.01)"]
    for method in ("points", "grid"):
        if "chamfer_" + method in rows[0]:
            values = np.array([r["chamfer_" + method] for r in rows])
            seconds = np.mean([r[method + "_s"] for r in rows])
            lines.append(f"{name}: Chamfer-L1 ({method}, {args.resolution}^3 cells) median {np.nanmedian(values):.5f}, "
                         f"mean {np.nanmean(values):.5f}, max {np.nanmax(values):.5f}; {seconds:.2f} s per shape")
    return "\n".join(lines)


def table(results: dict[str, list[dict]]) -> str:
    """The note's table: preset x (s/shape for ground truth, fit, check; % below 0.003; max error)."""
    lines = ["| preset | ground truth s/shape | fit s/shape | check s/shape | total s/shape | below 0.003 | max surface error |",
             "|---|---|---|---|---|---|---|"]
    for name, rows in results.items():
        if not rows:
            continue
        gt, fit, check = (float(np.mean([r[k] for r in rows])) for k in ("gt_s", "fit_s", "check_s"))
        errors = np.array([r["surface_error"] for r in rows])
        lines.append(f"| {name} | {gt:.1f} | {fit:.1f} | {check:.1f} | {gt + fit + check:.1f} | "
                     f"{np.mean(errors < 0.003):.0%} ({int(np.sum(errors < 0.003))}/{len(errors)}) | {errors.max():.5f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--folders", nargs="+", default=["printables", "classic"])
    ap.add_argument("--limit", type=int, default=0, help="meshes per folder (0 = all)")
    ap.add_argument("--offset", type=int, default=0, help="skip this many meshes of each folder (sorted by name)")
    ap.add_argument("--presets", nargs="+", default=["davies"], help="fit presets, each on the same meshes")
    ap.add_argument("--samples", type=int, default=0, help="importance samples (0: the preset's pairing, Davies' 1M)")
    ap.add_argument("--pool", type=int, default=0, help="importance pool (0: the preset's pairing, Davies' 10M)")
    ap.add_argument("--bound-grid", type=int, default=48, help="importance sampler bound grid (0: every pool distance)")
    ap.add_argument("--epochs", type=int, default=0, help="max epochs (0: each preset's own)")
    ap.add_argument("--k", type=int, default=16, help="shapes fitted together")
    ap.add_argument("--escalate", nargs="*", default=None, metavar="PRESET",
                    help="the escalation ladders (refits) of these presets; no names: of every preset")
    ap.add_argument("--chamfer", choices=["points", "grid", "both"], default="points")
    ap.add_argument("--resolution", type=int, default=256, help="cells per axis of the Chamfer check")
    ap.add_argument("--surface-points", type=int, default=100_000)
    ap.add_argument("--chamfer-points", type=int, default=30_000)
    ap.add_argument("--threads", type=int, default=1, help="torch threads per process")
    ap.add_argument("--jobs", type=int, default=1, help="processes fitting groups side by side (both presets share them)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    args.escalate = args.presets if args.escalate == [] else (args.escalate or [])
    paths = mesh_paths(args.data, args.folders, args.limit, args.offset)
    print(f"presets {', '.join(args.presets)} on {len(paths)} meshes ({', '.join(args.folders)}); budget: "
          f"importance samples / pool {', '.join(f'{n} {sampler_sizes(n, args)}' for n in args.presets)} "
          f"(bound grid {args.bound_grid}), "
          f"max epochs {args.epochs or 'of the preset'}, K={args.k}, escalation {', '.join(args.escalate) or 'off'}, "
          f"Chamfer {args.chamfer} at {args.resolution}^3 cells with {args.chamfer_points:,} points, "
          f"{args.threads} thread(s) x {args.jobs} process(es)", flush=True)
    started = time.perf_counter()
    results = run_presets(paths, args)
    print(f"\nwall time {time.perf_counter() - started:.0f} s with {args.jobs} process(es)")
    print()
    for name, rows in results.items():
        print(summarize(name, rows, args))
    print()
    print(table(results))


if __name__ == "__main__":
    main()
