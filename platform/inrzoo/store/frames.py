"""The frames a row's points can live in, and the one mapping between them.

A row's INR was fitted in a normalized frame. Between it and the source shape's own frame lie
up to two steps, both recorded with the row:
  1. an augmented copy's anisotropic scaling about the source's bounding-box centre
     (meta["augment_scale"] = {"center", "factors"}, see inrzoo.pipeline.augment), then
  2. the normalization (`transform` = {"center", "scale"}: normalized = (x - center) / scale).
Anything given in the source frame (query points, part labels, a render camera) reaches the
INR's frame with `to_inr_frame`, and comes back with `to_source_frame`. Every consumer uses
these two functions, so the augmentation is never forgotten on one path and applied on another.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

AUGMENT_KEY = "augment_scale"


def scale_points(points: np.ndarray, scaling: Mapping[str, Any]) -> np.ndarray:
    """Source-frame points in an augmented copy's frame (before normalization)."""
    center = np.asarray(scaling["center"], dtype=np.float64)
    return (np.asarray(points, dtype=np.float64) - center) * np.asarray(scaling["factors"], dtype=np.float64) + center


def _steps(transform: Mapping[str, Any] | None, meta: Mapping[str, Any] | None) -> tuple[Any, Any]:
    return (meta or {}).get(AUGMENT_KEY), transform


def to_inr_frame(points: Any, transform: Mapping[str, Any] | None, meta: Mapping[str, Any] | None = None) -> np.ndarray:
    """Points [..., 3] of the source shape's frame -> the row's INR frame (float64)."""
    scaling, normalization = _steps(transform, meta)
    x = np.asarray(points, dtype=np.float64)
    if scaling is not None:
        x = scale_points(x, scaling)
    if normalization is not None:
        x = (x - np.asarray(normalization["center"], dtype=np.float64)) / float(normalization["scale"])
    return x


def to_source_frame(points: Any, transform: Mapping[str, Any] | None, meta: Mapping[str, Any] | None = None) -> np.ndarray:
    """Points [..., 3] of the row's INR frame -> the source shape's frame (float64)."""
    scaling, normalization = _steps(transform, meta)
    x = np.asarray(points, dtype=np.float64)
    if normalization is not None:
        x = x * float(normalization["scale"]) + np.asarray(normalization["center"], dtype=np.float64)
    if scaling is not None:
        center = np.asarray(scaling["center"], dtype=np.float64)
        x = (x - center) / np.asarray(scaling["factors"], dtype=np.float64) + center
    return x


def batch_to_inr_frame(points: torch.Tensor, transforms: list[Mapping[str, Any] | None],
                       metas: list[Mapping[str, Any] | None]) -> torch.Tensor:
    """Points [K, N, 3] (one set per row) in their rows' source frames -> each row's INR frame."""
    if points.dim() != 3 or points.shape[0] != len(transforms) or len(transforms) != len(metas):
        raise ValueError(f"expected points [K, N, 3] for {len(transforms)} rows, got {list(points.shape)}")
    mapped = [to_inr_frame(p.detach().cpu().numpy(), t, m) for p, t, m in zip(points, transforms, metas)]
    return torch.as_tensor(np.stack(mapped), dtype=points.dtype, device=points.device)
