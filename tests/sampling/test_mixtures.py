"""Near-surface mixtures: segment sizes, band widths, clipping, presets (DeepSDF, Sergeev, inr2vec, DrapeNet).

On the open square z = 0 the unsigned distance of a point perturbed by N(0, s^2 I) is |z|,
whose mean is s * sqrt(2 / pi): that pins each band's standard deviation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from inrzoo.sampling import DrapeNetSampler, Inr2vecSampler, NearSurfaceSampler

HALF_NORMAL_MEAN = math.sqrt(2 / math.pi)


def band_std(values: np.ndarray) -> float:
    return float(np.mean(np.abs(values)) / HALF_NORMAL_MEAN)


def test_deepsdf_defaults_are_the_paper_values():
    s = NearSurfaceSampler()
    assert s.variances == (0.0025, 0.00025)
    assert 2 * s.n_near + s.n_uniform + s.n_surface == 500_000


def test_near_surface_bands_have_the_configured_variances(square):
    s = NearSurfaceSampler(n_near=5_000, n_uniform=1_000, field="udf").sample(square, 0)
    assert len(s) == 11_000
    wide, narrow, uniform = s.values[:5_000], s.values[5_000:10_000], s.points[10_000:]
    assert band_std(wide) == pytest.approx(math.sqrt(0.0025), rel=0.05)
    assert band_std(narrow) == pytest.approx(math.sqrt(0.00025), rel=0.05)
    assert np.abs(uniform).max() <= 1.0 and uniform.std(axis=0).min() > 0.5


def test_sergeev_preset_counts_and_signs(sphere):
    preset = NearSurfaceSampler.sergeev()
    assert (preset.n_surface, preset.n_near, preset.variances, preset.n_uniform) == (25_000, 250_000, (0.005, 0.0005), 0)
    s = NearSurfaceSampler.sergeev(n_near=2_000, n_surface=500).sample(sphere, 1)
    assert len(s) == 500 + 2 * 2_000 and s.field == "sdf"
    assert np.all(s.values[:500] == 0.0)
    np.testing.assert_allclose(np.linalg.norm(s.points[:500], axis=1), 0.5, atol=1e-3)
    near = s.values[500:]
    assert 0.3 < np.mean(near < 0) < 0.7  # both sides of the surface, about evenly


def test_inr2vec_bands_uniform_share_and_clipping(square):
    s = Inr2vecSampler(counts=(5_000, 4_000, 500), n_uniform=500, field="udf").sample(square, 2)
    assert len(s) == 10_000
    close, medium, far = s.values[:5_000], s.values[5_000:9_000], s.values[9_000:9_500]
    assert band_std(close) == pytest.approx(0.001, rel=0.05)
    assert band_std(medium) == pytest.approx(0.01, rel=0.05)
    assert band_std(far) == pytest.approx(0.1, rel=0.15)
    assert np.abs(s.points).max() <= 1.0  # clamped into [-1, 1]^3 like the released code


def test_inr2vec_released_code_variant_adds_on_surface_points(sphere):
    preset = Inr2vecSampler.released_code()
    assert preset.stds == (0.003, 0.01, 0.1) and preset.n_surface == 100_000
    s = Inr2vecSampler.released_code(counts=(100, 100, 100), n_uniform=100, n_surface=300).sample(sphere, 3)
    assert len(s) == 700 and np.all(s.values[:300] == 0.0)


def test_inr2vec_rejects_mismatched_bands():
    with pytest.raises(ValueError, match="3 counts but 2 stds"):
        Inr2vecSampler(stds=(0.01, 0.1))
    with pytest.raises(ValueError, match="stds"):
        Inr2vecSampler(stds=(0.01, 0.1, -1.0))


def test_drapenet_proportions_and_bands(square):
    sampler = DrapeNetSampler(n=10_000, eps=0.004)
    assert sampler.split() == (3_000, 3_000, 3_000, 1_000)
    s = sampler.sample(square, 4)
    assert s.field == "udf" and len(s) == 10_000
    assert np.all(s.values[:3_000] == 0.0) and np.all(np.abs(s.points[:3_000, 2]) < 1e-6)
    assert band_std(s.values[3_000:6_000]) == pytest.approx(0.004, rel=0.05)
    assert band_std(s.values[6_000:9_000]) == pytest.approx(0.012, rel=0.05)
    box = s.points[9_000:]
    assert np.abs(box).max() <= 1.0 and box[:, 2].std() > 0.5


def test_drapenet_split_always_sums_to_n():
    for n in (1, 7, 999, 1_001):
        assert sum(DrapeNetSampler(n=n).split()) == n
    with pytest.raises(ValueError, match="fractions"):
        DrapeNetSampler(fractions=(0.5, 0.5, 0.5, 0.1))


def test_drapenet_on_a_real_garment(skirt):
    s = DrapeNetSampler(n=6_000).sample(skirt, 5)
    assert s.field == "udf" and (s.values >= 0).all()
    n_surface, n_eps, n_3eps, _ = DrapeNetSampler(n=6_000).split()
    eps_band = s.values[n_surface : n_surface + n_eps]
    assert band_std(eps_band) == pytest.approx(0.003, rel=0.15)
