"""Reconstruction metrics: surface error, Chamfer distances, F-score, volumetric IoU, normal consistency.

Conventions (the papers differ, so the names say which one a number is):
- Nearest-neighbour distances are Euclidean, computed with scipy's cKDTree, in whatever frame the
  points are given (the normalized frame in inrzoo, so numbers compare across shapes).
- `chamfer(a, b)` (norm="l1", the default) is the mean of the two directed mean distances,
  0.5 * (mean_a min_b |a - b| + mean_b min_a |a - b|): the distance between two concentric spheres
  sampled densely is the difference of their radii.
- norm="l2_squared" averages squared distances instead; reduction="sum" adds the two directions.
  `chamfer_deepsdf` is DeepSDF's (and Sergeev et al.'s) number: the sum of the two directed mean
  squared distances, mean_a d^2 + mean_b d^2 (DeepSDF's tables also multiply it by 1000).
- `fscore` at threshold tau: precision = share of `pred` points closer than tau to `ref`, recall =
  share of `ref` points closer than tau to `pred`, F = 2PR / (P + R) (0 when both are 0).
- `surface_error` is Davies et al.'s: mean |f| over points sampled on the true surface (100K).
- `field_chamfer` compares a fitted field's zero level set with reference surface points from a
  fixed number of points: by default points on the level set found by a coarse grid refined
  near the surface (`inrzoo.geometry.level_set`); method="grid" samples the marching-cubes mesh
  of a dense grid instead (the older, costlier check).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import numpy as np
from scipy.spatial import cKDTree

from inrzoo.sampling.samples import as_generator

if TYPE_CHECKING:
    from inrzoo.geometry import Shape


def _points(x: object, name: str) -> np.ndarray:
    array = np.asarray(x, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 3 or array.shape[0] == 0:
        raise ValueError(f"{name}: expected a non-empty [N, 3] array of points, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: points contain NaN or infinite values")
    return array


def nearest_distances(query: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each query point, the Euclidean distance to its nearest target point and that point's index."""
    dist, index = cKDTree(_points(target, "target")).query(_points(query, "query"), k=1)
    return dist, index


def chamfer(
    a: np.ndarray,
    b: np.ndarray,
    *,
    norm: Literal["l1", "l2_squared"] = "l1",
    reduction: Literal["mean", "sum"] = "mean",
) -> float:
    """Symmetric Chamfer distance between point sets a and b (see the module notes)."""
    if norm not in ("l1", "l2_squared"):
        raise ValueError(f"chamfer: norm must be 'l1' or 'l2_squared', got {norm!r}")
    if reduction not in ("mean", "sum"):
        raise ValueError(f"chamfer: reduction must be 'mean' or 'sum', got {reduction!r}")
    d_ab, _ = nearest_distances(a, b)
    d_ba, _ = nearest_distances(b, a)
    if norm == "l2_squared":
        d_ab, d_ba = d_ab**2, d_ba**2
    total = float(d_ab.mean() + d_ba.mean())
    return total if reduction == "sum" else 0.5 * total


def chamfer_l1(a: np.ndarray, b: np.ndarray) -> float:
    """Mean of the two directed mean Euclidean nearest-neighbour distances."""
    return chamfer(a, b, norm="l1", reduction="mean")


def chamfer_l2_squared(a: np.ndarray, b: np.ndarray) -> float:
    """Mean of the two directed mean squared nearest-neighbour distances."""
    return chamfer(a, b, norm="l2_squared", reduction="mean")


def chamfer_deepsdf(a: np.ndarray, b: np.ndarray) -> float:
    """DeepSDF's Chamfer: the sum of the two directed mean squared distances (not scaled by 1000)."""
    return chamfer(a, b, norm="l2_squared", reduction="sum")


def precision_recall(pred: np.ndarray, ref: np.ndarray, threshold: float) -> tuple[float, float]:
    """Share of pred points within `threshold` of ref (precision), and of ref within it of pred (recall)."""
    if not threshold > 0:
        raise ValueError(f"threshold must be positive, got {threshold!r}")
    d_pred, _ = nearest_distances(pred, ref)
    d_ref, _ = nearest_distances(ref, pred)
    return float(np.mean(d_pred < threshold)), float(np.mean(d_ref < threshold))


def fscore(pred: np.ndarray, ref: np.ndarray, threshold: float) -> float:
    """F-score at `threshold`: the harmonic mean of precision and recall (0 when both are 0)."""
    return _harmonic_mean(*precision_recall(pred, ref, threshold))


def _harmonic_mean(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2.0 * precision * recall / (precision + recall)


def iou(occ_a: np.ndarray, occ_b: np.ndarray) -> float:
    """Volumetric IoU |A and B| / |A or B| of two boolean occupancy arrays (of points or voxels).

    Two empty sets are identical, so their IoU is 1.
    """
    a, b = np.asarray(occ_a), np.asarray(occ_b)
    if a.shape != b.shape:
        raise ValueError(f"iou: occupancy arrays differ in shape, {a.shape} vs {b.shape}")
    for name, arr in (("occ_a", a), ("occ_b", b)):
        if arr.dtype != bool:
            raise ValueError(f"iou: {name} must be a boolean array, got dtype {arr.dtype}")
    union = int(np.count_nonzero(a | b))
    if union == 0:
        return 1.0
    return int(np.count_nonzero(a & b)) / union


def _unit(normals: object, name: str, count: int) -> np.ndarray:
    n = np.asarray(normals, dtype=np.float64)
    if n.shape != (count, 3):
        raise ValueError(f"{name}: expected normals of shape ({count}, 3), got {n.shape}")
    length = np.linalg.norm(n, axis=1, keepdims=True)
    if np.any(length == 0) or not np.all(np.isfinite(length)):
        raise ValueError(f"{name}: normals must be finite and non-zero")
    return n / length


def normal_consistency(
    a_points: np.ndarray, a_normals: np.ndarray, b_points: np.ndarray, b_normals: np.ndarray
) -> float:
    """Mean |cos| between each point's normal and its nearest neighbour's normal in the other
    set, averaged over both directions (1 for identical surfaces; orientation is ignored)."""
    na = _unit(a_normals, "a_normals", np.shape(a_points)[0])
    nb = _unit(b_normals, "b_normals", np.shape(b_points)[0])
    _, ab = nearest_distances(a_points, b_points)
    _, ba = nearest_distances(b_points, a_points)
    cos_ab = np.abs(np.sum(na * nb[ab], axis=1))
    cos_ba = np.abs(np.sum(nb * na[ba], axis=1))
    return float(0.5 * (cos_ab.mean() + cos_ba.mean()))


def surface_error(
    f: Callable[[np.ndarray], object],
    shape: Shape,
    n: int = 100_000,
    rng: np.random.Generator | int | None = None,
    batch_size: int = 262_144,
) -> float:
    """Davies et al.'s surface error: mean |f(x)| over n points x sampled on the shape's surface.

    `f` maps float32 points [M, 3] of the normalized frame to values [M]: a function of numpy
    arrays, or a torch.nn.Module (given tensors, evaluated without gradients); `shape` must be in
    that same frame. rng defaults to seed 0, so the number is reproducible.
    """
    from inrzoo.geometry import surface_samples

    if n <= 0:
        raise ValueError(f"surface_error: n must be positive, got {n}")
    points, _ = surface_samples(shape, n, as_generator(0 if rng is None else rng))
    return float(np.mean(np.abs(evaluate_batched(f, np.asarray(points, dtype=np.float32), batch_size))))


def surface_metrics(
    pred: Shape,
    ref: Shape,
    *,
    n: int = 100_000,
    threshold: float = 0.01,
    rng: np.random.Generator | int | None = None,
) -> dict[str, float]:
    """Chamfer (all three conventions), precision, recall, F-score at `threshold` and (when both
    shapes give normals) normal consistency between n surface samples of `pred` and of `ref`.

    Both shapes must be in the same frame (the normalized one, so the threshold means the same
    for every shape); `pred` is typically the mesh extracted from a fitted INR.
    """
    from inrzoo.geometry import surface_samples

    generator = as_generator(0 if rng is None else rng)
    pred_points, pred_normals = surface_samples(pred, n, generator)
    ref_points, ref_normals = surface_samples(ref, n, generator)
    precision, recall = precision_recall(pred_points, ref_points, threshold)
    result = {
        "chamfer_l1": chamfer_l1(pred_points, ref_points),
        "chamfer_l2_squared": chamfer_l2_squared(pred_points, ref_points),
        "chamfer_deepsdf": chamfer_deepsdf(pred_points, ref_points),
        "precision": precision,
        "recall": recall,
        "fscore": _harmonic_mean(precision, recall),
    }
    if pred_normals is not None and ref_normals is not None:
        result["normal_consistency"] = normal_consistency(pred_points, pred_normals, ref_points, ref_normals)
    return result


def field_chamfer(
    f: Callable[[np.ndarray], object],
    reference: np.ndarray,
    *,
    n: int = 30_000,
    method: Literal["points", "grid"] = "points",
    resolution: int = 256,
    refine: int = 4,
    threshold: float = 0.01,
    rng: np.random.Generator | int | None = None,
) -> dict[str, float]:
    """Chamfer-L1 and F-score at `threshold` between f's zero level set and reference surface
    points (same frame), each side n points.

    method="points": level-set points from a (resolution / refine)^3 grid refined `refine`
    times near the surface; "grid": area-weighted samples of the resolution^3 marching-cubes
    mesh. A field without a zero crossing scores chamfer inf and F-score 0.
    """
    from inrzoo.geometry import GeometryError, extract_mesh, level_set_points, surface_samples
    from inrzoo.geometry.extract import numpy_field

    generator = as_generator(0 if rng is None else rng)
    ref = _points(reference, "reference")
    ref = ref[generator.choice(len(ref), size=min(n, len(ref)), replace=False)]
    if method == "points":
        coarse = max(2, int(round(resolution / refine)))
        ours = level_set_points(f, n, resolution=coarse, refine=refine, rng=generator)
    elif method == "grid":
        try:
            ours, _ = surface_samples(extract_mesh(numpy_field(f), resolution), n, generator)
        except GeometryError:  # the field never crosses zero on the grid
            ours = np.empty((0, 3))
    else:
        raise ValueError(f"field_chamfer: method must be 'points' or 'grid', got {method!r}")
    if len(ours) == 0:
        return {"chamfer": float("inf"), "fscore": 0.0}
    precision, recall = precision_recall(ours, ref, threshold)
    return {"chamfer": chamfer_l1(ours, ref), "fscore": _harmonic_mean(precision, recall)}


def evaluate_batched(f: Callable[[np.ndarray], object], points: np.ndarray, batch_size: int) -> np.ndarray:
    """f over points in batches, as one float64 array [N] (torch outputs are detached to numpy)."""
    import torch

    module = isinstance(f, torch.nn.Module)
    out = np.empty(points.shape[0], dtype=np.float64)
    for start in range(0, points.shape[0], batch_size):
        block = points[start : start + batch_size]
        if module:
            device = next(f.parameters(), torch.empty(0)).device
            with torch.no_grad():
                value = f(torch.from_numpy(block).to(device))
        else:
            value = f(block)
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        value = np.asarray(value, dtype=np.float64).reshape(-1)
        if value.shape[0] != block.shape[0]:
            raise ValueError(f"surface_error: f returned {value.shape[0]} values for {block.shape[0]} points")
        out[start : start + block.shape[0]] = value
    return out
