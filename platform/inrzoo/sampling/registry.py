"""Samplers by registry name: `get(name, **fields)` builds the config dataclass.

Names with a suffix are paper presets of a sampler (same class, other defaults); the fields
given to `get` override the preset's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from inrzoo import config

from inrzoo.sampling.basic import SurfaceSampler, UniformSampler, VoxelCentroidSampler
from inrzoo.sampling.importance import ImportanceSampler
from inrzoo.sampling.mixtures import DrapeNetSampler, Inr2vecSampler
from inrzoo.sampling.near_surface import NearSurfaceSampler
from inrzoo.sampling.samples import Sampler
from inrzoo.sampling.sign_agnostic import SignAgnosticSampler

REGISTRY: dict[str, Callable[..., Sampler]] = {
    "importance": ImportanceSampler,
    "near_surface": NearSurfaceSampler,
    "near_surface_deepsdf": NearSurfaceSampler.deepsdf,
    "near_surface_sergeev": NearSurfaceSampler.sergeev,
    "inr2vec": Inr2vecSampler,
    "inr2vec_released_code": Inr2vecSampler.released_code,
    "drapenet": DrapeNetSampler,
    "surface": SurfaceSampler,
    "uniform": UniformSampler,
    "voxel_centroids": VoxelCentroidSampler,
    "sign_agnostic": SignAgnosticSampler,
}


def get(name: str, **fields: Any) -> Sampler:
    """The sampler registered as `name`, with `fields` set (unknown names and fields are errors)."""
    if name not in REGISTRY:
        raise KeyError(f"unknown sampler {name!r}; known: {sorted(REGISTRY)}")
    try:
        return REGISTRY[name](**fields)
    except TypeError as exc:
        raise TypeError(f"sampler {name!r}: {exc}") from exc


def config_class(name: str) -> type:
    """The config dataclass behind a registry name (for `inrzoo.config.from_dict`)."""
    if name not in REGISTRY:
        raise KeyError(f"unknown sampler {name!r}; known: {sorted(REGISTRY)}")
    factory = REGISTRY[name]
    return factory if isinstance(factory, type) else factory.__self__  # presets are classmethods


def from_config(data: Mapping[str, Any], source: str = "<dict>") -> Sampler:
    """A sampler from plain config data {"name": ..., **fields} (e.g. a YAML section).

    Fields are type-checked by `inrzoo.config` (errors name the key and `source`); for a preset
    name the preset's values are the defaults that the given fields override.
    """
    if not isinstance(data, Mapping) or "name" not in data:
        raise config.ConfigError(f"{source}: a sampler config needs a 'name' (one of {sorted(REGISTRY)})")
    fields = {k: v for k, v in data.items() if k != "name"}
    name = data["name"]
    if name not in REGISTRY:
        raise config.ConfigError(f"{source}: unknown sampler {name!r}; known: {sorted(REGISTRY)}")
    preset = config.to_dict(REGISTRY[name]())
    unknown = sorted(set(fields) - set(preset))
    if unknown:
        raise config.ConfigError(f"{source}: unknown key(s) {unknown} for sampler {name!r}; known: {sorted(preset)}")
    return config.from_dict(config_class(name), {**preset, **fields}, source=source)


def to_config(sampler: Sampler) -> dict[str, Any]:
    """Plain data {"name": ..., **fields} that `from_config` turns back into an equal sampler."""
    names = [n for n, factory in REGISTRY.items() if factory is type(sampler)]
    if not names:
        raise KeyError(f"{type(sampler).__name__} is not a registered sampler class")
    return {"name": names[0], **config.to_dict(sampler)}
