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


def spec_of(arch, field: str = "sdf", fit_loss: dict | None = None, label_names=None):
    """The WeightSpec a data source would give for INRs of `arch` (default: SDFs fitted with L1)."""
    from inrzoo.zoo.core.weights import WeightSpec

    return WeightSpec.of(arch.spec, field, fit_loss, label_names)


def write_dataset(uri, arch, params, labels, *, copies=0, splits=None, storage_options=None):
    """Rows `<i>` and their copies `<i>#aug<c>` (same label), parameters from `params`."""
    from inrzoo.store import RowResult, create_weights, open_weights

    listing, sources = [], []
    for i, y in enumerate(labels):
        for c in range(copies + 1):
            listing.append({"id": f"s{i}" + (f"#aug{c}" if c else ""), "uri": f"synthetic://{i}", "label": "ab"[int(y)],
                            "split": None if splits is None else splits[i], "meta": {}})
            sources.append(i)
    writer = create_weights(uri, listing, [arch.spec], chunk_rows=4, init_seed=0, overwrite=True,
                            storage_options=storage_options)
    for unit in writer.regions():
        writer.write(unit, [RowResult(row=r, params={n: p[sources[r]] for n, p in params.items()}, arch=arch.spec)
                            for r in unit])
    writer.finalize(title="synthetic SIREN families")
    return open_weights(uri, storage_options)


def weight_data(uri: str, **split):
    """The core's data source over a weight dataset (seeded split by default)."""
    from inrzoo.zoo.core.data import DataSection, SplitSection
    from inrzoo.zoo.core.weights import WeightData

    return WeightData(DataSection(uri=uri, split=SplitSection(**split)))


def adamw(model, lr: float = 1e-3, weight_decay: float = 1e-2):
    from inrzoo.zoo.core import OptimizerConfig
    from inrzoo.zoo.core.loop import make_optimizer

    return make_optimizer(model, OptimizerConfig(name="adamw", lr=lr, weight_decay=weight_decay))


def train_on(model, params, optimizer, epochs: int = 1, generator=None) -> dict:
    """`epochs` steps of the core's loop on one batch of stacked INRs (labels unused)."""
    import torch

    from inrzoo.zoo.core import StepContext
    from inrzoo.zoo.core.loop import train_epoch
    from inrzoo.zoo.core.weights import WeightBatch

    k = next(iter(params.values())).shape[0]
    batch = WeightBatch(params, torch.zeros(k, dtype=torch.long), torch.arange(k))
    stats = {}
    for _ in range(epochs):
        stats = train_epoch(model, [batch], optimizer, StepContext(torch.device("cpu"), generator))
    return stats
