"""Ground truth of real meshes in a pool of CPU processes, for the GPU benchmarks
(benchmarks/fit_precision.py, benchmarks/convert_overlap.py): each worker loads a mesh,
normalizes it to the unit sphere and draws the preset's importance samples and surface points
with inrzoo.geometry and inrzoo.sampling (benchmarks/fit_quality.py's `prepare`, the same
functions as a conversion's prepare stage), one BLAS/torch thread per worker.

Meshes: the development meshes (printables and classic). On a GPU machine without the
repository's ../shared they come with the carried .gpu-site/data (benchmarks/gpu_site.sh).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from fit_quality import DATA, mesh_paths, prepare

CARRIED = Path(__file__).resolve().parents[1] / ".gpu-site" / "data"


def default_data() -> Path:
    """The carried copy of the development meshes where present, else ../shared/data."""
    return CARRIED if CARRIED.is_dir() else DATA


def development_meshes(data: Path, folders: list[str], limit: int) -> list[Path]:
    paths = mesh_paths(data, folders, limit)
    if not paths:
        raise SystemExit(f"no meshes under {data} in {folders}")
    return paths


@dataclass(frozen=True)
class Budget:
    """Ground truth per shape: importance samples drawn from a pool, surface points for the error."""

    samples: int
    pool: int
    bound_grid: int = 48
    surface_points: int = 20_000
    seed: int = 0


@dataclass
class Truth:
    name: str
    index: int
    samples: object  # inrzoo.sampling.Samples
    surface: np.ndarray
    seconds: float  # CPU work of this shape in its worker


def _one_thread() -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    import torch

    torch.set_num_threads(1)


def ground_truth(path: Path, index: int, budget: Budget) -> Truth:
    """One shape's samples and surface points (index seeds it: repeats of a mesh differ)."""
    started = time.process_time()
    args = SimpleNamespace(samples=budget.samples, pool=budget.pool, bound_grid=budget.bound_grid,
                           surface_points=budget.surface_points, seed=budget.seed)
    _, samples, surface = prepare(path, index, args)
    return Truth(f"{path.parent.name}/{path.name}", index, samples, surface, time.process_time() - started)


class GroundTruthPool:
    """`workers` spawned processes computing ground truth; submit() returns a Future[Truth]."""

    def __init__(self, workers: int, budget: Budget):
        self.budget = budget
        self.executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_one_thread)

    def submit(self, path: Path, index: int) -> Future:
        return self.executor.submit(ground_truth, path, index, self.budget)

    def all(self, paths: list[Path]) -> list[Truth]:
        """Ground truth of every path, in order (repeats of a path get their own index)."""
        return [f.result() for f in [self.submit(p, i) for i, p in enumerate(paths)]]

    def close(self, wait: bool = False) -> None:
        """Queued shapes are dropped; with `wait`, returns once the running ones have finished."""
        self.executor.shutdown(wait=wait, cancel_futures=True)

    def __enter__(self) -> GroundTruthPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
