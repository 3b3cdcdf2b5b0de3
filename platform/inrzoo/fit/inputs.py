"""A shape's samples as fit input: the per-shape checks that run before fitting.

A bad shape is reported as failed with its reason, never raised, so the other shapes of the
batch go on. (Each shape's mini-batches come from its own counter-based stream keyed by the
fit seed and the shape's id: inrzoo.fit.streams.)
"""

from __future__ import annotations

import numpy as np

from inrzoo.fit.config import FitConfig


def check_samples(samples, cfg: FitConfig) -> str | None:
    """The reason this shape's samples cannot be fitted, or None."""
    points = np.asarray(samples.points)
    values = np.asarray(samples.values)
    if points.ndim != 2 or points.shape[1] != 3:
        return f"bad samples: points must be [N, 3], got {points.shape}"
    if values.shape != (len(points),):
        return f"bad samples: values must be [N] = [{len(points)}], got {values.shape}"
    if len(points) == 0:
        return "no samples"
    if not np.isfinite(points).all():
        return f"samples contain NaN/inf: {int((~np.isfinite(points)).any(axis=1).sum())} points"
    if not np.isfinite(values).all():
        return f"samples contain NaN/inf: {int((~np.isfinite(values)).sum())} values"
    if len(points) < cfg.batch_size:
        return f"{len(points)} samples, fewer than batch_size {cfg.batch_size}"
    return _no_surface(samples.field, values, cfg)


def _no_surface(field: str, values: np.ndarray, cfg: FitConfig) -> str | None:
    if field == "sdf" and not (values.min() < 0.0 < values.max() or (values == 0.0).any()):
        sign = "positive" if values.min() > 0 else "negative"
        return f"no surface: all {len(values)} SDF samples are {sign}"
    if field == "udf":
        if values.min() < 0.0:
            return "bad samples: negative unsigned distances"
        # No sample within the clamp distance of the surface: nothing locates the zero set.
        if values.min() > cfg.loss.delta:
            return f"no surface: the nearest sample is {values.min():.3g} from the surface (> {cfg.loss.delta:g})"
    if field == "occupancy":
        if not np.isin(values, (0.0, 1.0)).all():
            return "bad samples: occupancy values must be 0 or 1"
        if values.min() == values.max():
            return f"no surface: all occupancy samples are {int(values[0])}"
    return None


def check_surface(points: np.ndarray | None) -> str | None:
    """Reason the surface point set given for escalation is unusable, or None."""
    if points is None:
        return None
    points = np.asarray(points)
    if points.ndim != 2 or points.shape[1] != 3:
        return f"bad surface points: must be [M, 3], got {points.shape}"
    if len(points) == 0:
        return "no surface: empty surface point set"
    if not np.isfinite(points).all():
        return "surface points contain NaN/inf"
    return None
