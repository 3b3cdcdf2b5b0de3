"""Peak memory of Davies importance sampling: a 10M-point pool on a mesh of >= 100K faces.

Target: the sampler's peak (resident memory above what the loaded mesh and its distance index
already hold) stays under 2 GiB. The script loads a real mesh from /work/shared/data (the
armadillo, 52K faces, subdivided once to 208K faces unless --mesh names another file), normalizes
it into the unit sphere, builds its distance index, then resets the kernel's high-water mark
(/proc/self/clear_refs) and runs ImportanceSampler(pool_size=10M, n=1M).

It prints the peak against two baselines measured in the same run: the 2 GiB budget, and the
float32 pool itself (12 bytes a point, the least any pool-based method must hold).

    .venv/bin/python benchmarks/sampling_memory.py [--pool-size 10000000] [--n 1000000] [--mesh PATH]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import trimesh

from inrzoo import geometry
from inrzoo.sampling import ImportanceSampler

DEFAULT_MESH = Path("/work/shared/data/classic/armadillo.off")
BUDGET = 2 * 1024**3
MIN_FACES = 100_000


def status_kib(key: str) -> int:
    """A memory figure (kB) of this process from /proc/self/status: VmRSS (now) or VmHWM (peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{key} not in /proc/self/status")


def reset_peak() -> None:
    """Set the resident high-water mark (VmHWM) back to the current RSS (Linux >= 4.0)."""
    Path("/proc/self/clear_refs").write_text("5")


def load_mesh(path: Path) -> geometry.Mesh:
    tm = trimesh.load(path, force="mesh")
    while len(tm.faces) < MIN_FACES:  # refine a real mesh up to the size the target names
        tm = tm.subdivide()
    mesh = geometry.Mesh(np.asarray(tm.vertices), np.asarray(tm.faces), source=str(path))
    return geometry.normalize(mesh, mode="sphere")[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mesh", type=Path, default=DEFAULT_MESH)
    parser.add_argument("--pool-size", type=int, default=10_000_000)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    mesh = load_mesh(args.mesh)
    geometry.unsigned_distance(mesh, np.zeros((1, 3)))  # build and cache the AABB tree
    sampler = ImportanceSampler(n=args.n, pool_size=args.pool_size)
    reset_peak()
    before = status_kib("VmRSS") * 1024
    start, cpu_start = time.perf_counter(), time.process_time()
    samples = sampler.sample(mesh, args.seed)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak = status_kib("VmHWM") * 1024 - before
    pool_bytes = args.pool_size * 3 * 4

    near = float(np.mean(np.abs(samples.values) < 0.01))
    print(f"mesh: {args.mesh.name}, {len(mesh.faces):,} faces (normalized into the unit sphere)")
    print(f"sampler: {sampler}")
    print(f"samples: {len(samples):,} ({samples.field}); share with |sdf| < 0.01: {near:.3f}")
    print(f"time: {seconds:.1f} s wall, {cpu:.1f} s CPU ({cpu / args.pool_size * 1e6:.2f} us CPU per pool point)")
    print(f"peak above the loaded mesh: {peak / 1024**2:,.0f} MiB")
    print(f"ratio peak / 2 GiB budget: {peak / BUDGET:.3f} ({'PASS' if peak < BUDGET else 'FAIL'})")
    print(f"ratio peak / float32 pool ({pool_bytes / 1024**2:,.0f} MiB): {peak / pool_bytes:.2f}")


if __name__ == "__main__":
    main()
