"""Samplers by registry name: `get(name, **fields)` builds the config dataclass.

Names with a suffix are paper presets of a sampler (same class, other defaults); the fields
given to `get` override the preset's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
