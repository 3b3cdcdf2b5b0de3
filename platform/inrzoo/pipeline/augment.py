"""Augmented copies of a collection (inr2vec: several randomly scaled and jittered copies of
each shape): each copy is a row of its own, with the original's label and split, and draws its
scale and noise from the shape's seed, so it is the same on every worker and every re-run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from inrzoo.geometry import Mesh, PointCloud, Shape
from inrzoo.store.frames import scale_points


@dataclass
class AugmentConfig:
    copies: int = 0  # augmented copies per shape; the original row is kept as well
    scale: tuple[float, float] = (0.8, 1.2)  # per-axis scale factors, drawn uniformly (before normalization)
    jitter: float = 0.0  # std of Gaussian noise on vertices / points, in the normalized frame

    def __post_init__(self) -> None:
        if self.copies < 0:
            raise ValueError(f"augment.copies must be >= 0, got {self.copies}")
        low, high = self.scale
        if not 0 < low <= high:
            raise ValueError(f"augment.scale must be 0 < low <= high, got {self.scale}")
        if self.jitter < 0:
            raise ValueError(f"augment.jitter must be >= 0, got {self.jitter}")


def expand_listing(refs: list[dict[str, Any]], cfg: AugmentConfig) -> list[dict[str, Any]]:
    """Each ref followed by its copies (id `<id>#aug<i>`, meta `augment`: i, `augment_of`: id)."""
    if cfg.copies == 0:
        return refs
    out = []
    for ref in refs:
        out.append(ref)
        for i in range(1, cfg.copies + 1):
            meta = {**ref.get("meta", {}), "augment": i, "augment_of": ref["id"]}
            out.append({**ref, "id": f"{ref['id']}#aug{i}", "meta": meta})
    return out


def augment_index(ref: dict[str, Any]) -> int:
    # Ray Data carries refs as Arrow structs: an original row next to its copies comes back with
    # "augment": None (the key filled in by schema unification), not without the key.
    return int((ref.get("meta") or {}).get("augment") or 0)


def scale_shape(shape: Shape, cfg: AugmentConfig, rng: np.random.Generator) -> tuple[Shape, dict[str, list[float]]]:
    """Anisotropic scaling about the bounding-box centre (normalization then refits the frame).

    Returns the scaled shape and the scaling as {"center", "factors"}: a row records it, so
    data given in the source's frame (part labels at points) can be brought into the INR's
    frame (inrzoo.store.frames.to_inr_frame)."""
    factors = rng.uniform(cfg.scale[0], cfg.scale[1], size=3)
    if isinstance(shape, Mesh):
        coords = shape.vertices
    elif isinstance(shape, PointCloud):
        coords = shape.points
    else:
        raise ValueError(f"{shape.source}: augmentation scales meshes and point clouds, not {shape.kind}")
    scaling = {"center": ((coords.min(axis=0) + coords.max(axis=0)) / 2).tolist(), "factors": factors.tolist()}
    if isinstance(shape, Mesh):
        return Mesh(scale_points(shape.vertices, scaling), shape.faces, source=shape.source), scaling
    # Normals of an anisotropically scaled surface transform by the inverse scale.
    normals = None if shape.normals is None else _unit(shape.normals / factors)
    return PointCloud(scale_points(shape.points, scaling), normals, source=shape.source), scaling


def jitter_shape(shape: Shape, cfg: AugmentConfig, rng: np.random.Generator) -> Shape:
    if cfg.jitter == 0:
        return shape
    if isinstance(shape, Mesh):
        return Mesh(shape.vertices + rng.normal(0.0, cfg.jitter, shape.vertices.shape), shape.faces, source=shape.source)
    if isinstance(shape, PointCloud):
        return PointCloud(shape.points + rng.normal(0.0, cfg.jitter, shape.points.shape), shape.normals,
                          source=shape.source)
    raise ValueError(f"{shape.source}: augmentation jitters meshes and point clouds, not {shape.kind}")


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
