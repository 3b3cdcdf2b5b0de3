"""Training samples for INR fitting: Davies importance sampling, near-surface mixtures
(DeepSDF/Sergeev, inr2vec, DrapeNet), surface, uniform, voxel centroids, and SAL's
sign-agnostic samples for raw scans.

    sampler = inrzoo.sampling.get("importance", n=100_000)
    samples = sampler.sample(normalized_shape, np.random.default_rng(0))   # Samples

Every sampler is a config dataclass with `.sample(shape, rng)`; the output is a pure function of
(config, shape, seed). Shapes are expected in the normalized frame (`inrzoo.geometry.normalize`).
"""

from inrzoo.sampling.basic import SurfaceSampler, UniformSampler, VoxelCentroidSampler
from inrzoo.sampling.importance import ImportanceSampler
from inrzoo.sampling.mixtures import DrapeNetSampler, Inr2vecSampler
from inrzoo.sampling.near_surface import NearSurfaceSampler
from inrzoo.sampling.registry import REGISTRY, config_class, from_config, get, to_config
from inrzoo.sampling.samples import DEFAULT_FIELD, FIELDS, Sampler, Samples, concat, resolve_field
from inrzoo.sampling.sign_agnostic import SignAgnosticSampler

__all__ = [
    "DEFAULT_FIELD",
    "DrapeNetSampler",
    "FIELDS",
    "ImportanceSampler",
    "Inr2vecSampler",
    "NearSurfaceSampler",
    "REGISTRY",
    "Sampler",
    "Samples",
    "SignAgnosticSampler",
    "SurfaceSampler",
    "UniformSampler",
    "VoxelCentroidSampler",
    "concat",
    "config_class",
    "from_config",
    "get",
    "resolve_field",
    "to_config",
]
