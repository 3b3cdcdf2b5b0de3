"""Analytic shapes and a tiny config for fitting tests (exact sphere fields; no mesh needed)."""

import numpy as np

from inrzoo.fit import FitConfig, LossConfig
from inrzoo.fit.config import EarlyStoppingConfig, AdamConfig, PlateauConfig
from inrzoo.inr import ArchSpec
from inrzoo.sampling import Samples


def sphere_samples(radius: float, n: int = 512, seed: int = 0, field: str = "sdf") -> Samples:
    rng = np.random.default_rng(seed)
    points = rng.uniform(-1.0, 1.0, (n, 3)).astype(np.float32)
    d = np.linalg.norm(points, axis=1) - radius
    values = {"sdf": d, "udf": np.abs(d), "occupancy": (d < 0).astype(np.float32)}[field]
    return Samples(points, values, field)


def sphere_surface(radius: float, n: int = 500, seed: int = 1) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, 3))
    return (radius * v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def tiny_config(**changes) -> FitConfig:
    cfg = FitConfig(
        arch=ArchSpec.default("relu_mlp", hidden=[16] * 3),
        loss=LossConfig(name="l1"),
        optimizer=AdamConfig(lr=3e-3),
        batch_size=64,
        max_epochs=6,
        early_stopping=EarlyStoppingConfig(enabled=False),
    )
    for key, value in changes.items():
        setattr(cfg, key, value)
    return cfg


def diverging_schedules(max_epochs: int = 12):
    """(config, shapes) whose shapes stop and lower their learning rate at different epochs:
    early stopping and ReduceLROnPlateau with tight settings, and sample counts that give
    different epoch lengths. Fit them with stream ids 10, 11, 12."""
    cfg = tiny_config(
        max_epochs=max_epochs,
        early_stopping=EarlyStoppingConfig(enabled=True, patience=2, min_delta=5e-3),
        plateau=PlateauConfig(enabled=True, factor=0.5, patience=0, threshold=0.05),
    )
    return cfg, [sphere_samples(0.3, 512, 0), sphere_samples(0.6, 700, 1), sphere_samples(0.45, 400, 2)]
