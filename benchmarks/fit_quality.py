"""Fit quality on real meshes with the davies preset: surface error distribution (median,
93rd percentile, max) next to Davies et al.'s "93% below 0.003, none above 0.01", and
Chamfer-L1 of the marching-cubes mesh against the original (both in the normalized frame:
the unit sphere).

Reads ../shared/data (printables: 30 meshes, classic: 19) through inrzoo.geometry, samples
with inrzoo.sampling's Davies importance sampler and fits with inrzoo.fit in batches of K.
The defaults are the paper's budget (1M samples from a 10M pool, up to 100 epochs, 256^3
marching cubes): about 90 minutes for the 49 meshes with --k 17 --threads 2 on a 2-core CPU.
The flags shrink it, and the header prints the budget used.

    .venv/bin/python benchmarks/fit_quality.py --limit 6 --samples 200000 --pool 2000000 \
        --epochs 20 --resolution 128
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from inrzoo import geometry, metrics, sampling
from inrzoo.fit import fit_batch, preset
from inrzoo.inr import build

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
EXTENSIONS = (".stl", ".off", ".ply", ".obj")


def mesh_paths(data: Path, folders: list[str], limit: int, offset: int = 0) -> list[Path]:
    paths = []
    for folder in folders:
        found = sorted(p for p in (data / folder).iterdir() if p.suffix.lower() in EXTENSIONS)[offset:]
        paths += found[:limit] if limit > 0 else found
    return paths


def prepare(path: Path, index: int, args) -> tuple:
    shape, _ = geometry.normalize(geometry.load(str(path)), mode="sphere")
    rng = np.random.default_rng([args.seed, index])
    sampler = sampling.get("importance", n=args.samples, pool_size=args.pool)
    samples = sampler.sample(shape, rng)
    surface, _ = geometry.surface_samples(shape, args.surface_points, rng)
    return shape, samples, surface


def evaluate(result, k: int, shape, args) -> dict:
    spec = result.arch[k]
    module = build(spec).as_module(result.shape_params[k]).eval()
    f = lambda x: module(torch.as_tensor(x)).detach()  # noqa: E731
    err = metrics.surface_error(f, shape, n=args.surface_points, rng=12345)
    row = {"surface_error": err, "arch": spec.label, "epochs": result.metrics[k]["epochs"]}
    try:
        with torch.no_grad():
            mesh = geometry.extract_mesh(f, args.resolution, bounds=(-1.0, 1.0))
        rng = np.random.default_rng(7)
        ours = np.asarray(mesh.sample(args.chamfer_points))
        ref, _ = geometry.surface_samples(shape, args.chamfer_points, rng)
        row["chamfer_l1"] = metrics.chamfer_l1(ours, np.asarray(ref))
    except geometry.GeometryError as exc:
        row["chamfer_l1"] = float("nan")
        row["note"] = str(exc)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--folders", nargs="+", default=["printables", "classic"])
    ap.add_argument("--limit", type=int, default=0, help="meshes per folder (0 = all)")
    ap.add_argument("--offset", type=int, default=0, help="skip this many meshes of each folder (sorted by name)")
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--pool", type=int, default=10_000_000)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--k", type=int, default=16, help="shapes fitted together")
    ap.add_argument("--escalate", action="store_true", help="Davies A.2 escalation ladder (costs refits)")
    ap.add_argument("--resolution", type=int, default=256)
    ap.add_argument("--surface-points", type=int, default=100_000)
    ap.add_argument("--chamfer-points", type=int, default=100_000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    paths = mesh_paths(args.data, args.folders, args.limit, args.offset)
    print(f"davies preset on {len(paths)} meshes ({', '.join(args.folders)}); budget: {args.samples:,} importance "
          f"samples from a {args.pool:,} pool, up to {args.epochs} epochs (early stopping on), K={args.k}, "
          f"escalation {'on' if args.escalate else 'off'}, marching cubes {args.resolution}^3, "
          f"{args.chamfer_points:,} Chamfer points, {args.threads} thread(s)", flush=True)
    cfg = preset("davies", max_epochs=args.epochs, seed=args.seed)
    if not args.escalate:
        cfg.escalation.ladder = []
    rows = []
    for start in range(0, len(paths), args.k):
        group = paths[start : start + args.k]
        t0 = time.perf_counter()
        prepared = [prepare(p, start + j, args) for j, p in enumerate(group)]
        t1 = time.perf_counter()
        result = fit_batch([s for _, s, _ in prepared], cfg, surface=[srf for _, _, srf in prepared],
                           stream_ids=list(range(start, start + len(group))))
        t2 = time.perf_counter()
        for j, (path, (shape, _, _)) in enumerate(zip(group, prepared)):
            if result.status[j] != "ok":
                print(f"{path.parent.name}/{path.name}: FAILED {result.errors[j]}", flush=True)
                continue
            row = evaluate(result, j, shape, args)
            row["name"] = f"{path.parent.name}/{path.name}"
            rows.append(row)
            print(f"{row['name']:<45} {row['arch']:<14} epochs {row['epochs']:>3}  surface error "
                  f"{row['surface_error']:.5f}  chamfer-L1 {row['chamfer_l1']:.5f} {row.get('note', '')}", flush=True)
        print(f"  group of {len(group)}: sampling {t1 - t0:.0f} s, fitting {t2 - t1:.0f} s "
              f"({(t2 - t1) / len(group):.0f} s per shape), evaluation {time.perf_counter() - t2:.0f} s", flush=True)
    errors = np.array([r["surface_error"] for r in rows])
    chamfers = np.array([r["chamfer_l1"] for r in rows])
    if not len(errors):
        print("no shape fitted")
        return
    print(f"\nsurface error over {len(errors)} shapes: median {np.median(errors):.5f}, 93rd percentile "
          f"{np.percentile(errors, 93):.5f}, max {errors.max():.5f}; below 0.003: {np.mean(errors < 0.003):.0%}, "
          f"above 0.01: {int(np.sum(errors > 0.01))}   (Davies et al.: 93% below 0.003, none above 0.01)")
    print(f"Chamfer-L1 ({args.resolution}^3 marching cubes vs original, unit-sphere frame): median "
          f"{np.nanmedian(chamfers):.5f}, mean {np.nanmean(chamfers):.5f}, max {np.nanmax(chamfers):.5f}")


if __name__ == "__main__":
    main()
