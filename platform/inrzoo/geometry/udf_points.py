"""Dense point clouds from an unsigned-distance field by gradient projection.

As in De Luigi's thesis (inr2vec, appendix C.2, after NDF): draw points uniformly in the
domain, keep those whose predicted UDF is below a threshold, move each one `steps` times
onto the surface with p <- p - f(p) * grad f(p) / |grad f(p)|, and repeat until n points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .extract import evaluate
from .normalize import Similarity
from .shapes import GeometryError


@dataclass
class UdfProjection:
    """Settings of the projection; distances are in the normalized frame."""

    threshold: float = 0.05      # keep uniform draws with f(p) below this
    steps: int = 5               # projection steps per kept point
    batch_size: int = 100_000    # uniform draws per round
    max_rounds: int = 1000       # give up when the field has (almost) no surface
    fd_step: float = 1e-4        # central-difference step when no gradient is given


def finite_difference_gradient(f, points: np.ndarray, h: float) -> np.ndarray:
    """Central differences of f, float32 [M,3] (6 batched evaluations)."""
    offsets = np.eye(3, dtype=np.float32) * h
    grad = np.empty_like(points, dtype=np.float32)
    for axis in range(3):
        grad[:, axis] = (evaluate(f, points + offsets[axis]) - evaluate(f, points - offsets[axis])) / (2 * h)
    return grad


def project(f, points: np.ndarray, steps: int, gradient=None, fd_step: float = 1e-4) -> np.ndarray:
    """`steps` projections p <- p - f(p) grad/|grad| (points where |grad| = 0 stay)."""
    points = np.asarray(points, dtype=np.float32).copy()
    for _ in range(steps):
        distance = evaluate(f, points)
        grad = np.asarray(gradient(points), dtype=np.float32) if gradient else finite_difference_gradient(f, points, fd_step)
        norm = np.linalg.norm(grad, axis=1, keepdims=True)
        direction = np.divide(grad, norm, out=np.zeros_like(grad), where=norm > 0)
        points -= distance[:, None] * direction
    return points


def points_from_udf(f, n: int, rng: np.random.Generator, *, gradient=None, bounds=(-1.0, 1.0),
                    settings: UdfProjection | None = None, transform: Similarity | None = None) -> np.ndarray:
    """n points float32 [n,3] on the zero level set of the UDF f (batched callable).

    gradient(points) -> [M,3] is used when given (e.g. autograd of an INR), central
    differences of f otherwise. With a transform the points are returned in the original frame.
    """
    settings = settings or UdfProjection()
    low, high = (np.broadcast_to(np.asarray(b, dtype=np.float32), (3,)) for b in bounds)
    found, count = [], 0
    for _ in range(settings.max_rounds):
        if count >= n:
            break
        draws = rng.uniform(low, high, (settings.batch_size, 3)).astype(np.float32)
        near = draws[evaluate(f, draws) < settings.threshold]
        if len(near):
            found.append(project(f, near, settings.steps, gradient, settings.fd_step))
            count += len(near)
    if count < n:
        raise GeometryError("points_from_udf", f"only {count} of {n} points came within the threshold "
                            f"{settings.threshold} after {settings.max_rounds} rounds of {settings.batch_size} draws")
    points = np.concatenate(found)[:n]
    return points if transform is None else transform.invert(points).astype(np.float32)
