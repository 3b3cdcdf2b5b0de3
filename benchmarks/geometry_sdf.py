"""Signed-distance throughput of inrzoo.geometry against trimesh, and peak memory of a
10M-point query processed in blocks.

Speed: the armadillo (52K faces, /work/shared/data) normalized into the unit sphere; two
query sets in random order, a Davies pool (uniform in the unit ball) and near-surface points
(surface samples + N(0, 0.01^2)). inrzoo: exact distance from the compiled BVH (geometry/nearest_*.c) +
fast-winding-number sign (on closed meshes shared across surface-free balls).
Baseline: trimesh.proximity.signed_distance on a subset of the same points, same run, same
pinned CPUs. Rates are evaluations per CPU-second (= per core, whatever the thread count)
and per wall second; the process is pinned to --threads CPUs and libigl uses that many threads.
Targets: >= 1M signed evaluations per second per core, >= 20x trimesh.

Davies pool: the importance sampler's cost per pool point, on the armadillo and on it
subdivided to ~200K faces (--pool-points, keeping 1 sample in 10 as Davies' 10M -> 1M):
the exact procedure (every pool point's distance, bound_grid 0) against the bounded one
(grid of exact distances + 1-Lipschitz bounds, exact distances only where the bounds cannot
decide); "evaluations" are pool points, so the rate is what the pool costs per CPU-second.
Bounding-box queries (uniform in the mesh's bounding box) on both meshes with the current path
against the previous one (libigl's AABB + winding number at every point, the fallback without
the compiled library), same points, same run; and, when warp-lang is importable, NVIDIA Warp's
BVH query with winding-number sign (CPU).

Memory: the armadillo subdivided to >= 100K faces, a 10M-point float32 pool, signed
distance of all of it; peak resident memory above the baseline (mesh, index and pool loaded),
from the kernel's high-water mark (VmHWM after /proc/self/clear_refs). Target: < 2 GiB.

    .venv/bin/python benchmarks/geometry_sdf.py [--points 300000] [--trimesh-points 1000]
        [--memory-points 10000000] [--threads 1] [--mesh PATH]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

DEFAULT_MESH = Path("/work/shared/data/classic/armadillo.off")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mesh", type=Path, default=DEFAULT_MESH)
    parser.add_argument("--points", type=int, default=300_000, help="query points per set for inrzoo")
    parser.add_argument("--trimesh-points", type=int, default=1000, help="subset of the same points for trimesh")
    parser.add_argument("--memory-points", type=int, default=10_000_000, help="0 skips the memory part")
    parser.add_argument("--threads", type=int, default=1, help="CPUs to pin to, and libigl threads")
    parser.add_argument("--pool-points", type=int, default=2_000_000, help="Davies pool size (0 skips that part)")
    parser.add_argument("--big-faces", type=int, default=200_000, help="subdivide the mesh to at least this many faces")
    return parser.parse_args()


ARGS = parse_args()
# Before numpy/libigl start their thread pools.
os.environ["IGL_NUM_THREADS"] = str(ARGS.threads)
os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)
os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: ARGS.threads])

import numpy as np  # noqa: E402
import trimesh  # noqa: E402

from inrzoo import geometry  # noqa: E402


def timed(function, *args):
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def unit_ball(n: int, rng: np.random.Generator) -> np.ndarray:
    direction = rng.normal(size=(n, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    return (direction * rng.random((n, 1)) ** (1 / 3)).astype(np.float32)


def load_normalized(path: Path, min_faces: int = 0) -> geometry.Mesh:
    mesh = geometry.load(str(path))
    tm = mesh.to_trimesh()
    while len(tm.faces) < min_faces:  # refine the real mesh up to the size the target names
        tm = tm.subdivide()
    return geometry.normalize(geometry.Mesh(tm.vertices, tm.faces, source=str(path)), "sphere")[0]


def speed(mesh: geometry.Mesh, rng: np.random.Generator) -> None:
    surface, _ = geometry.surface_samples(mesh, ARGS.points, rng)
    sets = {
        "davies pool (uniform in unit ball)": unit_ball(ARGS.points, rng),
        "near surface (sigma 0.01)": (surface + rng.normal(0, 0.01, surface.shape)).astype(np.float32),
    }
    geometry.shape_index(mesh)  # the AABB is built once per mesh; not part of a query's cost
    tm = mesh.to_trimesh()
    print(f"mesh {ARGS.mesh.name}: {len(mesh.faces)} faces; threads {ARGS.threads} (CPUs {sorted(os.sched_getaffinity(0))})")
    for name, points in sets.items():
        sdf, wall, cpu = timed(geometry.signed_distance, mesh, points)
        subset = points[: ARGS.trimesh_points].astype(np.float64)
        reference, t_wall, t_cpu = timed(trimesh.proximity.signed_distance, tm, subset)
        ours, theirs = len(points) / cpu, len(subset) / t_cpu
        # trimesh is positive inside; compare magnitudes and signs away from the surface.
        agree = np.abs(np.abs(sdf[: len(subset)]) - np.abs(reference)).max()
        clear = np.abs(reference) > 1e-4
        signs = np.mean(np.sign(-reference[clear]) == np.sign(sdf[: len(subset)][clear]))
        print(f"{name}: inrzoo {ours:,.0f} evals/s/core ({len(points) / wall:,.0f}/s wall, {len(points)} points); "
              f"trimesh {theirs:,.0f} evals/s/core ({len(subset)} points); ratio {ours / theirs:,.1f}x; "
              f"per-core target 1M: {ours / 1e6:.2f}x; max |d| difference {agree:.2e}, sign agreement {signs:.4f}")


def rate(function, *args) -> tuple[float, object]:
    """(points per CPU-second, result) of function(mesh, points) with len(points) = args[1]."""
    result, _, cpu = timed(function, *args)
    return len(args[1]) / cpu, result


def libigl_rate(mesh: geometry.Mesh, points: np.ndarray) -> tuple[float, np.ndarray]:
    """The fallback path (libigl's AABB, winding number everywhere) on a fresh copy of the mesh."""
    from inrzoo.geometry import nearest

    compiled = nearest.available
    nearest.available = lambda: False
    try:
        copy = geometry.Mesh(mesh.vertices, mesh.faces, source=mesh.source)
        geometry.shape_index(copy)
        return rate(geometry.signed_distance, copy, points)
    finally:
        nearest.available = compiled


def warp_rate(mesh: geometry.Mesh, points: np.ndarray):
    """Warp's BVH closest point + winding-number sign on the CPU, or None when not installed."""
    try:
        import warp as wp
    except ImportError:
        return None
    wp.config.quiet = True
    wp.init()

    @wp.kernel
    def query(mesh_id: wp.uint64, pts: wp.array(dtype=wp.vec3), out: wp.array(dtype=float)):
        tid = wp.tid()
        q = wp.mesh_query_point_sign_winding_number(mesh_id, pts[tid], 1.0e6, 2.0, 0.5)
        out[tid] = q.sign * wp.length(pts[tid] - wp.mesh_eval_position(mesh_id, q.face, q.u, q.v))

    wmesh = wp.Mesh(points=wp.array(mesh.vertices.astype(np.float32), dtype=wp.vec3),
                    indices=wp.array(mesh.faces.astype(np.int32).ravel(), dtype=int), support_winding_number=True)
    pts = wp.array(points.astype(np.float32), dtype=wp.vec3)
    out = wp.zeros(len(points), dtype=float)
    wp.launch(query, dim=1, inputs=[wmesh.id, pts, out], device="cpu")  # compile outside the timing
    wp.synchronize()
    _, _, cpu = timed(lambda: (wp.launch(query, dim=len(points), inputs=[wmesh.id, pts, out], device="cpu"),
                               wp.synchronize()))
    return len(points) / cpu, out.numpy()


def bounding_box_and_pool(mesh: geometry.Mesh, label: str, rng: np.random.Generator) -> None:
    from inrzoo.geometry.blocks import spatial_order
    from inrzoo.sampling import ImportanceSampler

    geometry.shape_index(mesh)
    low, high = mesh.bounds
    box = rng.uniform(low, high, (ARGS.points, 3))
    ours, sdf = rate(geometry.signed_distance, mesh, box)
    previous, reference = libigl_rate(mesh, box)
    line = (f"{label} ({len(mesh.faces):,} faces), bounding-box queries: current path {ours:,.0f} evals/s/core, "
            f"libigl path {previous:,.0f} ({ours / previous:.2f}x; max |difference| {np.abs(sdf - reference).max():.1e})")
    warp = warp_rate(mesh, box[spatial_order(box)])
    if warp is not None:
        line += f"; warp {warp[0]:,.0f} evals/s/core ({warp[0] / ours:.2f}x)"
    print(line + f"; target 1M: {ours / 1e6:.2f}x", flush=True)
    if not ARGS.pool_points:
        return
    n = ARGS.pool_points // 10
    rates = {}
    for grid in (0, 48):
        sampler = ImportanceSampler(n=n, pool_size=ARGS.pool_points, bound_grid=grid)
        _, _, cpu = timed(sampler.sample, mesh, 0)
        rates[grid] = ARGS.pool_points / cpu
    print(f"{label} ({len(mesh.faces):,} faces), Davies pool of {ARGS.pool_points:,} -> {n:,} samples: exact "
          f"{rates[0]:,.0f} pool points/s/core, bounded {rates[48]:,.0f} ({rates[48] / rates[0]:.1f}x); "
          f"target 1M: {rates[48] / 1e6:.2f}x", flush=True)


def status_kib(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{key} missing from /proc/self/status")


def memory(rng: np.random.Generator) -> None:
    mesh = load_normalized(ARGS.mesh, min_faces=100_000)
    geometry.shape_index(mesh)
    pool = unit_ball(ARGS.memory_points, rng)
    geometry.signed_distance(mesh, pool[:1000])
    Path("/proc/self/clear_refs").write_text("5")  # high-water mark := current RSS
    baseline = status_kib("VmRSS")
    sdf, wall, cpu = timed(geometry.signed_distance, mesh, pool)
    peak = status_kib("VmHWM") - baseline
    print(f"memory: {len(pool):,} points on {len(mesh.faces):,} faces; peak above baseline {peak / 2**20:.2f} GiB "
          f"(target < 2 GiB: {peak / 2**21:.2f} of budget); pool itself {pool.nbytes / 2**30:.2f} GiB, "
          f"output {sdf.nbytes / 2**30:.2f} GiB; baseline RSS {baseline / 2**20:.2f} GiB; "
          f"{len(pool) / cpu:,.0f} evals/s/core, {wall:.0f} s wall")


def main() -> None:
    rng = np.random.default_rng(0)
    speed(load_normalized(ARGS.mesh), rng)
    bounding_box_and_pool(load_normalized(ARGS.mesh), ARGS.mesh.name, rng)
    bounding_box_and_pool(load_normalized(ARGS.mesh, min_faces=ARGS.big_faces), f"{ARGS.mesh.name} subdivided", rng)
    if ARGS.memory_points:
        memory(rng)


if __name__ == "__main__":
    main()
