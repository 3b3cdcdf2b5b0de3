"""Generalized cylinders fitted around body parts: the building blocks of generated garments.

A `Tube` has a straight axis (origin a, unit direction d, pointing the way fabric hangs) and,
for each slab t_i along it, a centre c_i in the plane normal to d and a radius r_i(theta) at
n_theta angles. `fit_tube` takes the radius from the convex hull of the body points in each slab
(fabric spans concavities: between the breasts, the small of the back, between the legs of a
skirt). A garment then widens the profile (ease, flare), lets it hang (a radius shrinks at most
`slope` per unit of t going down the axis), smooths it, and evaluates the implicit function
f(x) = rho(x) - R(t(x), theta(x)), negative inside, whose zero set is the fabric.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.spatial import ConvexHull, QhullError

MIN_SLAB_POINTS = 6


def perpendicular_basis(direction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors completing `direction` to a right-handed orthonormal frame."""
    helper = np.array([0.0, 1.0, 0.0]) if abs(direction[1]) < 0.9 else np.array([1.0, 0.0, 0.0])
    e1 = np.cross(helper, direction)
    e1 /= np.linalg.norm(e1)
    return e1, np.cross(direction, e1)


def hull_radii(points: np.ndarray, center: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Distance from `center` (inside the hull) to the convex hull of 2D `points` along each angle."""
    hull = points[ConvexHull(points).vertices]  # counter-clockwise
    start = hull - center
    edge = np.roll(hull, -1, axis=0) - hull
    ray = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    denom = ray[:, None, 0] * edge[None, :, 1] - ray[:, None, 1] * edge[None, :, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        s = (start[None, :, 0] * edge[None, :, 1] - start[None, :, 1] * edge[None, :, 0]) / denom
        w = (start[None, :, 0] * ray[:, None, 1] - start[None, :, 1] * ray[:, None, 0]) / denom
    valid = (np.abs(denom) > 1e-12) & (w >= -1e-9) & (w <= 1 + 1e-9) & (s > 0)
    return np.where(valid, s, np.inf).min(axis=1)


@dataclass(frozen=True)
class Tube:
    """Axis origin/direction/basis, slab positions t [T], centres [T,2], radii [T, n_theta]."""

    origin: np.ndarray
    direction: np.ndarray
    basis: tuple[np.ndarray, np.ndarray]
    t: np.ndarray
    centers: np.ndarray
    radii: np.ndarray

    @property
    def angles(self) -> np.ndarray:
        return np.linspace(0.0, 2 * np.pi, self.radii.shape[1], endpoint=False)

    def coords(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(t, rho, theta) of points [N,3]: along the axis, distance from the slab centre, angle."""
        offset = points - self.origin
        t = offset @ self.direction
        plane = np.stack([offset @ self.basis[0], offset @ self.basis[1]], axis=1)
        center = np.stack([np.interp(t, self.t, self.centers[:, k]) for k in range(2)], axis=1)
        local = plane - center
        return t, np.hypot(local[:, 0], local[:, 1]), np.arctan2(local[:, 1], local[:, 0]) % (2 * np.pi)

    def radius_at(self, t: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """R(t, theta) by bilinear interpolation (clamped in t, periodic in theta)."""
        n = self.radii.shape[1]
        position = np.clip(np.interp(t, self.t, np.arange(len(self.t), dtype=np.float64)), 0, len(self.t) - 1)
        i0 = np.minimum(np.floor(position).astype(np.int64), len(self.t) - 2)
        wt = position - i0
        angle = theta / (2 * np.pi) * n
        j0 = np.floor(angle).astype(np.int64) % n
        wa = angle - np.floor(angle)
        j1 = (j0 + 1) % n
        top = self.radii[i0, j0] * (1 - wa) + self.radii[i0, j1] * wa
        bottom = self.radii[i0 + 1, j0] * (1 - wa) + self.radii[i0 + 1, j1] * wa
        return top * (1 - wt) + bottom * wt

    def field(self, points: np.ndarray, cap_softness: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
        """(f, t): the implicit function (negative inside, capped at both ends) and the axis position."""
        t, rho, theta = self.coords(points)
        f = rho - self.radius_at(t, theta)
        f = smooth_max(f, self.t[0] - t, cap_softness)
        return smooth_max(f, t - self.t[-1], cap_softness), t

    # --- profile operations (each returns a new Tube) ---------------------------------------
    def widened(self, ease: np.ndarray | float) -> Tube:
        """Radii plus `ease` (a number, or one value per slab)."""
        ease = np.broadcast_to(np.asarray(ease, dtype=np.float64).reshape(-1, 1), (len(self.t), 1))
        return replace(self, radii=self.radii + ease)

    def hanging(self, slope: float) -> Tube:
        """Fabric hangs down the axis: a radius shrinks at most `slope` per unit of t."""
        radii = self.radii.copy()
        steps = np.diff(self.t)
        for i in range(1, len(self.t)):
            np.maximum(radii[i], radii[i - 1] - slope * steps[i - 1], out=radii[i])
        return replace(self, radii=radii)

    def smoothed(self, sigma_t: float, sigma_theta: float = 1.0) -> Tube:
        """Gaussian smoothing of radii and centres along the axis (sigma in length units) and around it."""
        step = float(np.mean(np.diff(self.t)))
        radii = gaussian_filter1d(self.radii, sigma_t / step, axis=0, mode="nearest")
        radii = gaussian_filter1d(radii, sigma_theta, axis=1, mode="wrap")
        centers = gaussian_filter1d(self.centers, sigma_t / step, axis=0, mode="nearest")
        return replace(self, radii=radii, centers=centers)

    def cut(self, t_low: float, t_high: float) -> Tube:
        """The slabs with t_low <= t <= t_high (the caps move with them)."""
        keep = (self.t >= t_low) & (self.t <= t_high)
        if keep.sum() < 2:
            raise ValueError(f"tube cut [{t_low:.3f}, {t_high:.3f}] keeps fewer than 2 slabs of {self.t[[0, -1]]}")
        return replace(self, t=self.t[keep], centers=self.centers[keep], radii=self.radii[keep])


def fit_tube(points: np.ndarray, origin: np.ndarray, direction: np.ndarray, step: float = 0.01,
             n_theta: int = 72) -> Tube:
    """A tube around `points` [N,3] along the axis (origin, direction): one slab every `step`,
    radius = the convex hull of the slab's points seen from their centroid. Slabs with too few
    points take their neighbours' profile."""
    direction = np.asarray(direction, dtype=np.float64)
    direction = direction / np.linalg.norm(direction)
    origin = np.asarray(origin, dtype=np.float64)
    basis = perpendicular_basis(direction)
    offset = points - origin
    t = offset @ direction
    plane = np.stack([offset @ basis[0], offset @ basis[1]], axis=1)
    slabs = np.arange(t.min() + step / 2, t.max() - step / 2 + 1e-12, step)
    angles = np.linspace(0.0, 2 * np.pi, n_theta, endpoint=False)
    centers = np.full((len(slabs), 2), np.nan)
    radii = np.full((len(slabs), n_theta), np.nan)
    for i, ti in enumerate(slabs):
        ring = plane[np.abs(t - ti) <= step]  # slabs overlap by half a step each side
        if len(ring) < MIN_SLAB_POINTS:
            continue
        center = ring.mean(axis=0)
        try:
            radii[i] = hull_radii(ring, center, angles)
        except QhullError:  # degenerate (collinear) slab
            continue
        centers[i] = center
    good = np.isfinite(radii).all(axis=1)
    if good.sum() < 2:
        raise ValueError("fit_tube: fewer than two slabs have enough points for a convex hull")
    for k in range(2):
        centers[:, k] = np.interp(slabs, slabs[good], centers[good, k])
    for j in range(n_theta):
        radii[:, j] = np.interp(slabs, slabs[good], radii[good, j])
    return Tube(origin, direction, basis, slabs, centers, radii)


def smooth_max(a: np.ndarray, b: np.ndarray | float, k: float) -> np.ndarray:
    """Polynomial smooth maximum (Quilez): max(a, b) rounded over a band of width k."""
    if k <= 0:
        return np.maximum(a, b)
    h = np.clip(0.5 + 0.5 * (a - b) / k, 0.0, 1.0)
    return b + (a - b) * h + k * h * (1.0 - h)


def smooth_min(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    """Polynomial smooth minimum: the union of two solids with a fillet of width k."""
    return -smooth_max(-a, -b, k)
