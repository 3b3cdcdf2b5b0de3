"""The configuration of one conversion: source collection -> weight dataset.

A conversion preset names a fitting preset (inrzoo.fit.presets) together with the
normalization and the sampler that its paper pairs with it; the `fit` and `sampler.options`
sections override single fields of those. The resolved config (every default filled in) is
what gets recorded in the dataset attributes and as MLflow params.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal

from inrzoo import config as configlib
from inrzoo.fit import FitConfig, preset as fit_preset
from inrzoo.pipeline.augment import AugmentConfig
from inrzoo.tracking import TrackingConfig


@dataclass(frozen=True)
class PresetPairing:
    normalize: Literal["sphere", "cube"]
    sampler: str
    target: Literal["auto", "sdf", "udf", "occupancy"] = "auto"  # the field the INR fits
    sampler_options: tuple[tuple[str, Any], ...] = ()  # defaults under the config's sampler.options


# What each paper pairs with its fitting setup (design.md): Davies fits SDFs in the unit sphere
# from importance samples; inr2vec fits in [-1,1]^3 from its mixture; Sergeev uses DeepSDF-style
# near-surface samples; LightSAL learns from unsigned distances of raw scans.
PAIRINGS: dict[str, PresetPairing] = {
    "davies": PresetPairing("sphere", "importance", "sdf"),
    # chosen (issue 13): a quarter of Davies' samples and pool; the fast fit's budget of 7,168
    # steps of 1,024 visits each sample up to ~29 times.
    "fast": PresetPairing("sphere", "importance", "sdf", (("n", 250_000), ("pool_size", 2_500_000))),
    "inr2vec": PresetPairing("cube", "inr2vec", "auto"),
    "sergeev": PresetPairing("sphere", "near_surface_sergeev", "sdf"),
    "lightsal": PresetPairing("sphere", "sign_agnostic", "udf"),
    "udf": PresetPairing("cube", "inr2vec", "udf"),
    "occupancy": PresetPairing("cube", "voxel_centroids", "occupancy"),
}


def presets_for(kind: str) -> list[str]:
    """The presets whose field a shape of `kind` can give (auto picks the kind's own field)."""
    from inrzoo.geometry import kinds_giving

    return [name for name, p in PAIRINGS.items() if p.target == "auto" or kind in kinds_giving(p.target)]


@dataclass
class SourceConfig:
    uri: str = ""
    collection: str = "folder"
    options: dict[str, Any] = field(default_factory=dict)  # adapter filters (labels, split, ...)
    storage_options: dict[str, Any] = field(default_factory=dict)
    limit: int = 0  # convert only the first N shapes of the listing (0 = all)
    # Local folders: a symbolic link whose target lies outside the root becomes a failed row,
    # unless this is true (then it is read like any file).
    follow_links: bool = False
    max_file_bytes: int = 2 * 1024**3  # chosen: a larger file is a failed row, never read into memory


@dataclass
class OutputConfig:
    uri: str = ""
    storage_options: dict[str, Any] = field(default_factory=dict)
    chunk_rows: int = 8  # rows per Zarr chunk = shapes per work unit (one fit batch)
    # Storage precision of the parameters; the fit computes in fit.dtype (float32) either way. float16
    # halves the store (about 14 kB per 8x32 INR, 26 kB in float32) and is lossless for the field:
    # no development mesh's surface error moves by 1e-4 (benchmarks/store_size.py). float32
    # keeps the fitted values exactly; a value beyond float16's range fails its row (store/integrity.py).
    dtype: Literal["float32", "float16", "bfloat16"] = "float16"
    retry_failed: bool = False  # on resume, refit rows that failed before


@dataclass
class SamplerConfig:
    name: str = ""  # empty: the preset's pairing
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class EvalConfig:
    """Per-shape checks after the fit. Surface error (Davies): mean |f| over `surface_points`
    surface samples. Chamfer-L1 and F-score of the zero level set against `chamfer_points` of
    those samples: `points` finds level-set points on a grid of mesh_resolution / 4 nodes per
    axis refined 4x near the surface; `grid` samples the marching-cubes mesh of a dense
    mesh_resolution^3 grid (about 10x costlier); `none` skips them."""

    surface_points: int = 100_000
    chamfer: Literal["points", "grid", "none"] = "points"
    chamfer_points: int = 30_000
    mesh_resolution: int = 256
    fscore_threshold: float = 0.01


@dataclass
class RuntimeConfig:
    executor: Literal["ray", "local"] = "ray"  # local: the same stages in this process (notebooks, baselines)
    ray_address: str = ""  # empty: RAY_ADDRESS if set, else a local Ray started for this job
    fit_workers: int = 1  # actors in the fitting pool
    cpus_per_fit_worker: float = 1.0  # reserved per actor; torch runs 1 intra-op thread per fit group
    fit_threads: int = 0  # a unit's fit batches fitted side by side; 0: the worker's share of the cores
    gpus_per_fit_worker: float = -1.0  # -1: one GPU per actor when the cluster has GPUs, else 0
    # Units a fitting actor takes at once and fits as one set of shapes (grouped by fit_group_size;
    # 0 there: all of them in one group), each written as its own region. On a GPU this makes the
    # fit group K = units_per_fit x chunk_rows large (thousands) while each unit's prepare task,
    # which works through its shapes one after another, stays small. It changes how shapes are
    # grouped, so weights agree within float rounding (as across devices), not bit for bit.
    units_per_fit: int = 1
    prepare_cpus: float = 1.0
    prepare_memory: int = 1024 * 1024 * 1024  # bytes reserved per prepare task (pool + distances)
    object_store_memory: int = 512 * 1024 * 1024  # only for a local Ray started by the job
    store_retries: int = 5  # object-store writes: attempts with exponential backoff
    store_backoff_s: float = 1.0
    # Order in which pending units are fitted: "listing", or "labels" (round robin over the labels
    # of the units' first rows, so that a conversion stopped part-way covers every class).
    schedule: Literal["listing", "labels"] = "listing"
    # Ray Data's own progress report (operators, tasks, resources every few seconds): off by
    # default, as inrzoo logs shape-level lines; true (or env INRZOO_RAY_PROGRESS=1) brings it back.
    ray_progress: bool = False


@dataclass
class ConvertConfig:
    source: SourceConfig = field(default_factory=SourceConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    preset: str = "davies"
    normalize: Literal["", "sphere", "cube"] = ""  # empty: the preset's pairing
    target: Literal["", "auto", "sdf", "udf", "occupancy"] = ""  # empty: the preset's pairing
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    fit: dict[str, Any] = field(default_factory=dict)  # overrides of the preset's FitConfig
    # Shapes per fit batch within a unit (0: the whole unit). Chosen: 4. On a CPU batching gains
    # little past a few shapes, while separate batches run on separate cores; the grouping is
    # part of the config (not of the runtime) because it decides float rounding of the weights.
    fit_group_size: int = 4
    seed: int = 0  # shared initialization and every per-shape sample stream derive from it
    max_faces: int = 5_000_000
    eval: EvalConfig = field(default_factory=EvalConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)

    def __post_init__(self) -> None:
        if self.preset not in PAIRINGS:
            raise ValueError(f"unknown preset {self.preset!r}; known: {sorted(PAIRINGS)}")
        if self.output.chunk_rows <= 0:
            raise ValueError(f"output.chunk_rows must be positive, got {self.output.chunk_rows}")
        if self.runtime.units_per_fit <= 0:
            raise ValueError(f"runtime.units_per_fit must be positive, got {self.runtime.units_per_fit}")
        if self.runtime.fit_workers <= 0:
            raise ValueError(f"runtime.fit_workers must be positive, got {self.runtime.fit_workers}")
        if self.runtime.fit_threads < 0:
            raise ValueError(f"runtime.fit_threads must be >= 0 (0: automatic), got {self.runtime.fit_threads}")
        if self.fit_group_size < 0:
            raise ValueError(f"fit_group_size must be >= 0 (0: the whole unit), got {self.fit_group_size}")


@dataclass(frozen=True)
class ResolvedConversion:
    """A ConvertConfig with the preset's pairing and fit config filled in."""

    config: ConvertConfig
    fit: FitConfig
    normalize: str
    target: str
    sampler_name: str
    sampler_options: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        data = configlib.to_dict(self.config)
        data.update(normalize=self.normalize, target=self.target, fit=configlib.to_dict(self.fit))
        data["sampler"] = {"name": self.sampler_name, "options": self.sampler_options}
        return data


def resolve(cfg: ConvertConfig) -> ResolvedConversion:
    pairing = PAIRINGS[cfg.preset]
    sampler_name = cfg.sampler.name or pairing.sampler
    # The pairing's sampler defaults belong to its sampler; another sampler named starts bare.
    defaults = dict(pairing.sampler_options) if sampler_name == pairing.sampler else {}
    fit_data = _deep_merge(configlib.to_dict(fit_preset(cfg.preset)), cfg.fit)
    fit_data["seed"] = cfg.seed
    fit = configlib.convert(FitConfig, fit_data, "fit", f"preset {cfg.preset!r} + fit overrides")
    return ResolvedConversion(
        config=cfg,
        fit=fit,
        normalize=cfg.normalize or pairing.normalize,
        target=cfg.target or pairing.target,
        sampler_name=sampler_name,
        sampler_options={**defaults, **cfg.sampler.options},
    )


def load_convert_config(path: str | None, overrides: list[str] | tuple[str, ...] = ()) -> ConvertConfig:
    return configlib.load(ConvertConfig, path, overrides)


def _deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
