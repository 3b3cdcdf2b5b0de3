"""Presets reproducing each paper's fitting setup; `preset(name)` returns a fresh FitConfig.

Settings stated by the papers (design.md / issue 4) are marked "paper"; values the papers
leave open and this library chose are marked "chosen" so nobody mistakes them for the paper's.
"""

from __future__ import annotations

from collections.abc import Callable

from inrzoo.fit.config import EarlyStoppingConfig, EscalationConfig, FitConfig, LossConfig, AdamConfig, PlateauConfig
from inrzoo.inr.spec import ArchSpec


def davies() -> FitConfig:
    # paper: 8x32 ReLU + tanh (7,553 params), importance samples (1M, prepared by sampling),
    # L1, Adam 1e-4, batch 2048, up to 100 epochs with early stopping, escalation A.2.
    # chosen: patience 10 / min_delta 1e-6 and the ladder 8x48 -> 8x64.
    return FitConfig(
        arch=ArchSpec.default("relu_mlp"),
        loss=LossConfig(name="l1"),
        optimizer=AdamConfig(lr=1e-4, eps=1e-7),
        batch_size=2048,
        max_epochs=100,
        early_stopping=EarlyStoppingConfig(enabled=True, patience=10, min_delta=1e-6),
        escalation=EscalationConfig(
            ladder=[ArchSpec.default("relu_mlp", hidden=[48] * 8), ArchSpec.default("relu_mlp", hidden=[64] * 8)],
            target_surface_error=0.003,
        ),
    )


def inr2vec() -> FitConfig:
    # paper: SIREN 4x512, inr2vec sample mixture, BCE on distances clipped at 0.1 and
    # normalized to [0, 1], 500 steps of 10K points, Adam 1e-4, shared initialization.
    return FitConfig(
        arch=ArchSpec.default("siren"),
        loss=LossConfig(name="bce", delta=0.1),
        optimizer=AdamConfig(lr=1e-4, eps=1e-8),
        batch_size=10_000,
        max_epochs=0,
        max_steps=500,
        early_stopping=EarlyStoppingConfig(enabled=False),
    )


def sergeev() -> FitConfig:
    # paper: 8x512 ReLU (PyTorch init), near-surface sampling, curriculum loss with the
    # epsilon/lambda schedule of LossConfig, ReduceLROnPlateau, 10,000 epochs of 10K points.
    # chosen: plateau factor 0.5 / patience 50, clamp delta 0.1 (Curriculum DeepSDF's).
    return FitConfig(
        arch=ArchSpec.default("relu_mlp", hidden=[512] * 8, init="torch"),
        loss=LossConfig(name="curriculum", delta=0.1),
        optimizer=AdamConfig(lr=1e-4, eps=1e-8),
        batch_size=10_000,
        max_epochs=10_000,
        early_stopping=EarlyStoppingConfig(enabled=False),
        plateau=PlateauConfig(enabled=True, factor=0.5, patience=50),
    )


def lightsal() -> FitConfig:
    # paper: LightSAL decoder with SAL's geometric initialization, sign-agnostic L1 on the
    # unsigned distance to the raw scan. chosen: Adam 1e-4, batches of 10K, 500 epochs max
    # with early stopping (LightSAL trains 75% fewer epochs than SAL).
    return FitConfig(
        arch=ArchSpec.default("lightsal"),
        loss=LossConfig(name="sal"),
        optimizer=AdamConfig(lr=1e-4, eps=1e-8),
        batch_size=10_000,
        max_epochs=500,
        early_stopping=EarlyStoppingConfig(enabled=True, patience=20, min_delta=1e-6),
    )


def udf() -> FitConfig:
    # inr2vec on point clouds: UDF clipped at 0.1 and normalized, BCE, SIREN 4x512, 500 steps.
    return inr2vec()


def occupancy() -> FitConfig:
    # inr2vec on voxels: occupancy with the focal loss (alpha 0.25, gamma 2: Lin et al.).
    cfg = inr2vec()
    cfg.loss = LossConfig(name="focal", focal_alpha=0.25, focal_gamma=2.0)
    return cfg


PRESETS: dict[str, Callable[[], FitConfig]] = {
    "davies": davies,
    "inr2vec": inr2vec,
    "sergeev": sergeev,
    "lightsal": lightsal,
    "udf": udf,
    "occupancy": occupancy,
}


def preset(name: str, **overrides) -> FitConfig:
    """A fresh FitConfig for preset `name`; keyword overrides replace top-level fields."""
    if name not in PRESETS:
        raise KeyError(f"unknown fit preset {name!r}; known: {sorted(PRESETS)}")
    cfg = PRESETS[name]()
    for key, value in overrides.items():
        if not hasattr(cfg, key):
            raise KeyError(f"fit preset {name!r}: FitConfig has no field {key!r}")
        setattr(cfg, key, value)
    return cfg
