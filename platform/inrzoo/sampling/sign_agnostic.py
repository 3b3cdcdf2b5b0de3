"""Sign-agnostic training data for raw scans (SAL, Atzmon & Lipman; LightSAL).

Raw scans and triangle soups have no inside, so the targets are unsigned distances only; the
sign-agnostic loss then learns a signed field from them. SAL's sampling: for each of the
`n_surface` points of the scan, two samples, one from N(p, sigma_p^2 I) with sigma_p the distance
from p to its `k`-th nearest neighbour among the scan points (k = 50), one from
N(p, global_sigma^2 I). The target is the unsigned distance to the scan (to the triangles of a
mesh, to the points of a point cloud). SAL's single-shape reconstruction scales the scan into
[-1, 1]^3 and uses global_sigma = 1.0, our default; its D-Faust setting (in metres) is 0.2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

from inrzoo.geometry.io import as_shape
from inrzoo.sampling.domains import check_positive, surface_points
from inrzoo.sampling.samples import Samples, as_generator, check_counts, evaluate

if TYPE_CHECKING:
    from inrzoo.geometry import Shape


@dataclass
class SignAgnosticSampler:
    """SAL samples: local (k-th neighbour) and global Gaussian perturbations; target = UDF to the scan."""

    n_surface: int = 250_000
    k: int = 50
    global_sigma: float = 1.0
    include_surface: bool = False

    def __post_init__(self) -> None:
        check_counts("SignAgnosticSampler", n_surface=self.n_surface)
        check_counts("SignAgnosticSampler", k=self.k)
        if self.k == 0:
            raise ValueError("SignAgnosticSampler: k must be at least 1")
        check_positive("SignAgnosticSampler", global_sigma=self.global_sigma)

    def sample(self, shape: Shape, rng: np.random.Generator | int) -> Samples:
        shape = as_shape(shape)
        rng = as_generator(rng)
        scan, _ = surface_points(shape, self.n_surface, rng)
        sigmas = local_sigmas(scan, self.k, reference_points(shape, scan))
        local = scan + sigmas[:, None] * rng.standard_normal(scan.shape, dtype=np.float32)
        far = scan + np.float32(self.global_sigma) * rng.standard_normal(scan.shape, dtype=np.float32)
        points = np.concatenate([local, far])
        values = evaluate(shape, points, "udf")
        if self.include_surface:
            points = np.concatenate([scan, points])
            values = np.concatenate([np.zeros(scan.shape[0], dtype=np.float32), values])
        return Samples(points=points, values=values, field="udf")


def reference_points(shape: Shape, sampled: np.ndarray) -> np.ndarray:
    """The scan points the neighbour distances are measured in: a point cloud's own points,
    else the surface sample itself (as SAL does for meshes, with 250K samples)."""
    if getattr(shape, "kind", None) == "pointcloud":
        return np.asarray(shape.points, dtype=np.float32)
    return sampled


def local_sigmas(points: np.ndarray, k: int, reference: np.ndarray) -> np.ndarray:
    """Distance (float32 [N]) from each point to its k-th nearest neighbour in `reference`,
    not counting the point itself (every point of `points` is one of `reference`)."""
    if reference.shape[0] <= k:
        raise ValueError(f"SAL local sigma needs more than k={k} scan points, got {reference.shape[0]}")
    dist, _ = cKDTree(reference).query(points, k=[k + 1])
    return dist[:, 0].astype(np.float32)
