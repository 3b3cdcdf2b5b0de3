"""INRs with known surfaces for the field and render tests: Davies' 8x32 ReLU MLP with tanh output,
SAL's geometric initialization (f(x) close to |x| - r) plus a seeded perturbation, so each row is a
lumpy sphere of roughly radius r whose exact surface only the network knows."""

from __future__ import annotations

import torch

import inrzoo
from inrzoo.fields import INRField
from inrzoo.inr import ArchSpec, build, stack_params
from inrzoo.store import RowResult


def lumpy_params(radii, seed: int = 0, wobble: float = 0.02, hidden=(32,) * 8) -> tuple[ArchSpec, dict]:
    items, spec = [], None
    for i, r in enumerate(radii):
        spec = ArchSpec.default("relu_mlp", hidden=list(hidden), init="geometric", geometric_radius=float(r))
        params = build(spec).init_params(seed + i)
        gen = torch.Generator().manual_seed(1000 + seed + i)
        items.append({k: v + wobble * torch.randn(v.shape, generator=gen) for k, v in params.items()})
    # geometric_radius only shapes the initialization: the stored spec is the plain Davies MLP
    return ArchSpec.default("relu_mlp", hidden=list(hidden)), stack_params(items)


def lumpy_field(radii=(0.5,), hidden=(32,) * 8, **options) -> INRField:
    spec, params = lumpy_params(radii, hidden=hidden)
    return INRField(spec, params, **options)


def lumpy_dataset(uri: str, radii=(0.4, 0.5, 0.6), config: dict | None = None, transform: dict | None = None):
    """A finalized weight dataset with one lumpy sphere per radius (Davies L1 fit config)."""
    spec, params = lumpy_params(radii)
    listing = [{"id": f"sphere{i}", "uri": f"file:///data/sphere{i}.stl", "label": ("a", "b")[i % 2],
                "split": "train" if i else "test", "kind": "mesh", "meta": {"licence": "CC0-1.0"}}
               for i in range(len(radii))]
    config = config or {"target": "sdf", "normalize": "sphere", "preset": "davies",
                        "fit": {"loss": {"name": "l1"}}, "source": {"collection": "folder", "uri": "/data"}}
    writer = inrzoo.create_weights(uri, listing, [spec], config=config,
                                   collection={"name": "folder", "root": "/data", "title": "Lumpy spheres"})
    results = [RowResult(row=i, params={k: v[i] for k, v in params.items()},
                         metrics={"surface_error": 1e-3 * (i + 1), "final_loss": 0.01},
                         transform=transform or {"center": [0.0, 0.0, 0.0], "scale": 1.0}) for i in range(len(radii))]
    for region in writer.regions():
        writer.write(region, [r for r in results if r.row in region])
    writer.finalize()
    return inrzoo.open_weights(uri)
