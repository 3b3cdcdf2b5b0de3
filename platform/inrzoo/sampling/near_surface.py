"""Near-surface mixtures: points on the surface, Gaussian shells around it, and uniform points.

`surface_mixture` is the one routine behind the DeepSDF/Sergeev sampler here and the inr2vec
and DrapeNet mixtures (`mixtures.py`); they differ only in counts and standard deviations.

DeepSDF (Park et al., supp.): surface points perturbed with Gaussian noise of variance 0.0025
and 0.00025, each surface point once per variance, plus uniform points in [-1, 1]^3 (the released
preprocessing puts 47/50 of its 500K points near the surface, the rest uniform).
Sergeev et al. (implicit-high-res-templates, `sample_sdf_from_mesh`): 25K points on the surface
plus 250K surface points perturbed twice, with variance 0.005 and 0.005 / 10, no uniform points.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from inrzoo.geometry.io import as_shape
from inrzoo.sampling.domains import check_positive, gaussian_shells, surface_points, uniform_in_box
from inrzoo.sampling.samples import (
    FieldName,
    Samples,
    as_generator,
    check_counts,
    check_field,
    evaluate,
    resolve_field,
)

if TYPE_CHECKING:
    from inrzoo.geometry import Shape


def surface_mixture(
    shape: Shape,
    rng: np.random.Generator,
    field: str,
    *,
    n_surface: int,
    n_base: int,
    stds: tuple[float, ...],
    counts: tuple[int, ...],
    n_uniform: int,
    box: tuple[float, float] = (-1.0, 1.0),
    clip: bool = False,
) -> Samples:
    """On-surface points, then Gaussian shells around `n_base` surface points, then uniform ones.

    On-surface points get the value 0 for distance fields (they lie on the zero level set by
    construction) and their ground truth for occupancy. With `clip`, perturbed points are clamped
    into `box` as inr2vec's and DrapeNet's released code does.
    """
    on_surface, _ = surface_points(shape, n_surface, rng)
    base, _ = surface_points(shape, n_base if sum(counts) else 0, rng)
    shells = gaussian_shells(base, stds, counts, rng)
    uniform = uniform_in_box(n_uniform, rng, *box)
    if clip:
        np.clip(shells, box[0], box[1], out=shells)
    off_surface = np.concatenate([shells, uniform])
    if field == "occupancy":
        surface_values = evaluate(shape, on_surface, field)
    else:
        surface_values = np.zeros(on_surface.shape[0], dtype=np.float32)
    return Samples(
        points=np.concatenate([on_surface, off_surface]),
        values=np.concatenate([surface_values, evaluate(shape, off_surface, field)]),
        field=field,
    )


class MixtureSampler(ABC):
    """Base of the mixture samplers: a subclass states its mixture, `surface_mixture` draws it."""

    field: str | None

    @abstractmethod
    def mixture(self) -> dict[str, Any]:
        """Keyword arguments of `surface_mixture` (counts, standard deviations, box, clip)."""
        raise NotImplementedError

    def sample(self, shape: Shape, rng: np.random.Generator | int) -> Samples:
        shape = as_shape(shape)
        return surface_mixture(shape, as_generator(rng), resolve_field(shape, self.field), **self.mixture())


def check_box(owner: str, box: tuple[float, float]) -> None:
    if len(box) != 2 or not box[0] < box[1]:
        raise ValueError(f"{owner}: box must be (low, high) with low < high, got {box!r}")


@dataclass
class NearSurfaceSampler(MixtureSampler):
    """DeepSDF/Sergeev near-surface sampling; the defaults are DeepSDF's (500K points).

    Each of the `n_near` surface points is perturbed once per entry of `variances` (Gaussian
    variances, not standard deviations, as both papers state them), giving n_near * len(variances)
    points, plus `n_surface` points on the surface and `n_uniform` in the `box` cube.
    `NearSurfaceSampler.sergeev()` gives Sergeev et al.'s counts and variances.
    """

    n_near: int = 235_000
    variances: tuple[float, ...] = (0.0025, 0.00025)
    n_surface: int = 0
    n_uniform: int = 30_000
    box: tuple[float, float] = (-1.0, 1.0)
    field: FieldName | None = None

    def __post_init__(self) -> None:
        self.variances = tuple(self.variances)
        self.box = tuple(self.box)
        check_counts("NearSurfaceSampler", n_near=self.n_near, n_surface=self.n_surface, n_uniform=self.n_uniform)
        check_positive("NearSurfaceSampler", variances=self.variances)
        check_box("NearSurfaceSampler", self.box)
        check_field(self.field)

    @classmethod
    def deepsdf(cls, **overrides: Any) -> NearSurfaceSampler:
        """DeepSDF: variances 0.0025 and 0.00025 around 235K surface points, 30K uniform (500K)."""
        return cls(**overrides)

    @classmethod
    def sergeev(cls, **overrides: Any) -> NearSurfaceSampler:
        """Sergeev et al.: 25K on the surface + 250K perturbed with variance 0.005 and 0.0005 (525K)."""
        preset: dict[str, Any] = dict(n_near=250_000, variances=(0.005, 0.0005), n_surface=25_000, n_uniform=0)
        return cls(**{**preset, **overrides})

    def mixture(self) -> dict[str, Any]:
        return dict(
            n_surface=self.n_surface,
            n_base=self.n_near,
            stds=tuple(math.sqrt(v) for v in self.variances),
            counts=(self.n_near,) * len(self.variances),
            n_uniform=self.n_uniform,
            box=self.box,
        )
