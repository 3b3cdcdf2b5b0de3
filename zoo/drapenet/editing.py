"""Latent editing (thesis 2.4; liren2515/DrapeNet editing/): a direction per attribute in code space.

A logistic regression separates the codes of two classes of an attribute ("short" and "long"
sleeves in the thesis, labelled by hand there). Its weights w are normalized as
(|w| - min |w|) / (max |w| - min |w|), those below `threshold` (0.5) are zeroed, and the sign of
w is put back: editing moves a code along this direction in steps, code + i * step_size * d.
Chosen: the classes come from the garments' own parameters (the generator records them), the
lowest and highest `fraction` of the parameter's values among the garments that have it.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression


def extreme_classes(values: np.ndarray, fraction: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """(rows, labels): the rows in the lowest (label 0) and highest (label 1) `fraction` of values;
    NaN values (garments without the parameter) are left out."""
    values = np.asarray(values, dtype=np.float64)
    known = np.flatnonzero(np.isfinite(values))
    if len(known) < 4:
        raise ValueError(f"editing needs at least 4 garments with the attribute, got {len(known)}")
    order = known[np.argsort(values[known], kind="stable")]
    count = max(2, int(round(fraction * len(order))))
    rows = np.concatenate([order[:count], order[-count:]])
    return rows, np.concatenate([np.zeros(count, dtype=int), np.ones(count, dtype=int)])


def attribute_direction(codes: np.ndarray, labels: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """The editing direction [latent] that moves codes from class 0 towards class 1."""
    if len(set(np.asarray(labels).tolist())) != 2:
        raise ValueError("attribute_direction needs codes of exactly two classes")
    weights = LogisticRegression(max_iter=1000).fit(np.asarray(codes), np.asarray(labels)).coef_[0]
    magnitude = np.abs(weights)
    spread = magnitude.max() - magnitude.min()
    normalized = (magnitude - magnitude.min()) / spread if spread > 0 else np.ones_like(magnitude)
    normalized[normalized < threshold] = 0.0
    return np.sign(weights) * normalized


def edit_strip(code: np.ndarray, direction: np.ndarray, steps: int, step_size: float) -> np.ndarray:
    """Codes [steps + 1, latent]: code, code + d * step_size, ..., code + d * steps * step_size."""
    return np.asarray(code)[None] + np.arange(steps + 1)[:, None] * step_size * np.asarray(direction)[None]


def interpolation_strip(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """Codes [steps, latent] on the segment from a to b, both ends included."""
    weights = np.linspace(0.0, 1.0, steps)[:, None]
    return (1 - weights) * np.asarray(a)[None] + weights * np.asarray(b)[None]
