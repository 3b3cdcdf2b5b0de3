"""Tiny inr2vec configurations and synthetic INR sets shared by the inr2vec tests (importable:
tests/ is on pythonpath; the fixtures in tests/zoo/inr2vec/conftest.py hand them out)."""

from __future__ import annotations

import torch

from inrzoo.inr import ArchSpec, build, stack_params
from inrzoo.zoo.inr2vec.config import DecoderConfig, EncoderConfig, Inr2vecConfig, TeacherConfig


def tiny_config(**teacher) -> Inr2vecConfig:
    return Inr2vecConfig(
        encoder=EncoderConfig(hidden_dims=[16, 16], embedding_dim=16),
        decoder=DecoderConfig(hidden_dim=32, layers_before_skip=1, layers_after_skip=1),
        teacher=TeacherConfig(num_queries=256, pool_factor=2, **teacher),
    )


def siren_families(n_per_family: int, width: int = 16, seed: int = 0):
    """Two families of random SIRENs: family 1 has its hidden biases shifted by +0.5 (a phase
    shift of every hidden sine), so the families differ in their bias rows and in their fields."""
    arch = build(ArchSpec.default("siren", hidden=[width] * 3))
    items, labels = [], []
    for i in range(2 * n_per_family):
        params = arch.init_params(seed + i)
        family = i % 2
        if family:
            params = {n: (p + 0.5 if n in ("layers.1.bias", "layers.2.bias") else p) for n, p in params.items()}
        items.append(params)
        labels.append(family)
    return arch, stack_params(items), torch.tensor(labels)


def sphere_inrs(radii, width: int = 32, seed: int = 0):
    """ReLU INRs with SAL's geometric init: f(x) is close to |x| - r (a rough sphere SDF)."""
    items, arch = [], None
    for i, r in enumerate(radii):
        arch = build(ArchSpec.default("relu_mlp", hidden=[width] * 3, init="geometric", output="none",
                                      geometric_radius=float(r)))
        items.append(arch.init_params(seed + i))
    return arch, stack_params(items)
