"""Bytes per shape of the Davies architecture (8x32 ReLU + tanh, 7,553 parameters) in float32,
float16 and bfloat16 with each compression codec, against Davies et al.'s 59 kB per shape
(590 MB of Keras weights for 10,000 Thingi10K meshes), and the surface-error change that the
lower precisions cause: per shape |error(dtype) - error(float32)|, its distribution and how
many shapes change by 1e-4 or more (the bar for a lossless default, issue 19).

    .venv/bin/python benchmarks/store_size.py [--shapes 6] [--epochs 15] [--samples 100000]
    .venv/bin/python benchmarks/store_size.py --data ../shared/data --folders printables classic \
        --shapes 0 --epochs 20 --samples 200000        # the 49 development meshes

Real meshes (the bundled demo collection by default, or every mesh of --folders under --data)
are fitted with the Davies preset on a reduced budget (fewer samples and epochs than the paper,
no escalation, to keep the run short on a laptop CPU); the fp32 fit is then stored at every
precision and the surface error (mean |f| at 100K surface points, Davies et al.) recomputed from
what each dataset gives back, at the same surface points for every precision.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import tempfile
import time
from importlib import resources
from pathlib import Path

import numpy as np

import inrzoo
from fit_quality import mesh_paths
from inrzoo import geometry, metrics, sampling
from inrzoo.fit import fit_batch, preset
from inrzoo.store import results_from_fit

DAVIES_BYTES_PER_SHAPE = 59_000  # 590 MB / 10,000 shapes (Davies et al.)
DTYPES = ("float32", "float16", "bfloat16")
CODECS = ("zstd", "blosc")
LOSSLESS_CHANGE = 1e-4  # issue 19: a precision is lossless when no shape's surface error moves this much
MESH_SUFFIXES = (".stl", ".ply", ".obj", ".off")


def demo_paths(count: int) -> list[Path]:
    folder = Path(str(resources.files("inrzoo") / "data" / "demo"))
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in MESH_SUFFIXES)
    return files[:count] if count > 0 else files


def fit_meshes(files: list[Path], epochs: int, samples: int):
    shapes, transforms, sample_sets, surfaces, kept = [], [], [], [], []
    sampler = sampling.get("importance", n=samples, pool_size=10 * samples)
    for i, path in enumerate(files):
        try:
            shape, transform = geometry.normalize(geometry.load(str(path)), mode="sphere")
        except geometry.GeometryError as exc:
            print(f"skipped {path.name}: {exc}")
            continue
        kept.append(path)
        shapes.append(shape)
        transforms.append(transform)
        sample_sets.append(sampler.sample(shape, np.random.default_rng(i)))
        surfaces.append(geometry.surface_samples(shape, 20_000, np.random.default_rng(100 + i))[0])
    cfg = preset("davies")
    cfg = dataclasses.replace(cfg, max_epochs=epochs, escalation=dataclasses.replace(cfg.escalation, ladder=[]))
    started = time.perf_counter()
    fitted = fit_batch(sample_sets, cfg, surface=surfaces)
    print(f"fitted {len(kept)} meshes in {time.perf_counter() - started:.0f} s "
          f"(davies preset, {epochs} epochs of {samples} importance samples, no escalation)")
    listing = [{"id": p.stem, "uri": str(p), "label": None, "split": "train"} for p in kept]
    return listing, shapes, transforms, fitted, cfg


def chunk_bytes(location, prefix: str) -> int:
    """Bytes of chunk objects only: the per-shape cost once a dataset has many shapes (the
    zarr.json metadata of each array is a fixed cost that a small run spreads over few shapes)."""
    sizes = location.fs.du(location.key(prefix), total=False)
    return int(sum(size for path, size in sizes.items() if not path.endswith("zarr.json")))


def print_changes(errors: dict[str, list[float]], names: list[str]) -> None:
    print(f"\n{'dtype':<9} {'mean surface error':>19} {'change of mean':>15} "
          f"{'|change| median':>16} {'p90':>9} {'p99':>9} {'max':>9} {'shapes >= 1e-4':>15}")
    base = np.asarray(errors["float32"])
    for dtype in DTYPES:
        err = np.asarray(errors[dtype])
        change = np.abs(err - base)
        print(f"{dtype:<9} {err.mean():>19.6f} {(err.mean() - base.mean()) / base.mean():>+14.3%} "
              f"{np.median(change):>16.2e} {np.percentile(change, 90):>9.2e} {np.percentile(change, 99):>9.2e} "
              f"{change.max():>9.2e} "
              f"{int(np.sum(change >= LOSSLESS_CHANGE)):>8}/{len(change)}")
    worst = int(np.argmax(np.abs(np.asarray(errors["float16"]) - base)))
    print(f"largest float16 change: {names[worst]} ({base[worst]:.6f} -> {errors['float16'][worst]:.6f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", type=int, default=6, help="meshes to fit (0 = all)")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--data", type=Path, default=None, help="a folder of mesh folders (default: the bundled demo)")
    parser.add_argument("--folders", nargs="+", default=["printables", "classic"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--chunk-rows", type=int, default=64, help="rows per chunk (conversions: output.chunk_rows)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import torch

    torch.set_num_threads(args.threads)
    files = mesh_paths(args.data, args.folders, 0)[: args.shapes or None] if args.data else demo_paths(args.shapes)
    listing, shapes, transforms, fitted, cfg = fit_meshes(files, args.epochs, args.samples)
    rows = list(range(len(listing)))
    results = results_from_fit(rows, fitted, transforms=transforms)
    ok = [r.row for r in results if r.status == "ok"]
    print(f"{len(ok)}/{len(rows)} fits ok\n")
    errors: dict[str, list[float]] = {}
    print(f"{'dtype':<9} {'codec':<6} {'param chunk B/shape':>20} {'vs Davies 59 kB':>16} "
          f"{'+ metadata B/shape':>19} {'whole store B/shape':>20}")
    with tempfile.TemporaryDirectory() as tmp:
        for dtype in DTYPES:
            for codec in CODECS:
                uri = str(Path(tmp) / f"{dtype}-{codec}.zarr")
                writer = inrzoo.create_weights(uri, listing, [cfg.arch], dtype=dtype, codec=codec, level=5,
                                               chunk_rows=args.chunk_rows)
                for region in writer.regions():
                    writer.write(region, [r for r in results if r.row in region])
                chunks = chunk_bytes(writer.location, "arch/0") / len(ok)
                params = writer.location.stored_bytes("arch/0") / len(ok)
                total = writer.location.stored_bytes() / len(ok)
                print(f"{dtype:<9} {codec:<6} {chunks:>20.0f} {DAVIES_BYTES_PER_SHAPE / chunks:>15.1f}x "
                      f"{params:>19.0f} {total:>20.0f}")
                if codec == CODECS[0]:
                    ds = inrzoo.open_weights(uri)
                    errors[dtype] = [metrics.surface_error(ds.module(i), shapes[ds[i].row], n=100_000, rng=0)
                                     for i in range(len(ds))]
    print_changes(errors, [listing[r]["id"] for r in ok])
    print(f"\nparameters per shape: {sum(np.prod(s) for s in inrzoo.store.ArchLayout.from_spec(cfg.arch).param_shapes.values())}"
          f" (raw fp32 {4 * 7553} B, fp16/bf16 {2 * 7553} B)")


if __name__ == "__main__":
    main()
