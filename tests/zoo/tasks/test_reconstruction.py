"""Meshes from decoded and teacher fields, Chamfer / F-score against the input INRs, strips."""

from __future__ import annotations

import math

import pytest
import torch

from inrzoo.inr import select_params
from inr2vec_helpers import adamw, spec_of, train_on
from inrzoo.zoo.inr2vec import Inr2vec
from inrzoo.zoo.tasks.plots import interpolation_strip
from inrzoo.zoo.tasks.reconstruction import compare_fields, decode_meshes, inr_field, reconstruction_quality


def test_teacher_against_itself_and_against_another_radius(sphere_inrs, tiny_config):
    arch, params = sphere_inrs([0.4, 0.7], width=64)
    spec = spec_of(arch)
    small = inr_field(spec, select_params(params, 0))
    large = inr_field(spec, select_params(params, 1))
    # Two independent 4000-point samples of one surface lie ~0.015 apart (sampling noise only).
    same = compare_fields(small, small, 0.0, resolution=32, n_points=4000, threshold=0.05)
    other = compare_fields(small, large, 0.0, resolution=32, n_points=4000, threshold=0.05)
    assert same["chamfer"] < 0.03 and same["fscore"] > 0.95, same
    assert other["chamfer"] > 0.1 and other["fscore"] < 0.5, other


def test_reconstruction_quality_counts_every_shape(sphere_inrs, tiny_config):
    torch.manual_seed(0)
    arch, params = sphere_inrs([0.4, 0.6], width=32)
    model = Inr2vec(tiny_config(), spec_of(arch))
    result = reconstruction_quality(model, params, resolution=24, n_points=500)
    assert result["scored"] + result["failed"] == 2
    if result["scored"]:
        assert result["chamfer"] >= 0 and 0 <= result["fscore"] <= 1
    else:
        assert math.isnan(result["chamfer"])


def test_decode_meshes_and_interpolation_strip(sphere_inrs, tiny_config, tmp_path):
    torch.manual_seed(0)
    arch, params = sphere_inrs([0.4, 0.6], width=32)
    model = Inr2vec(tiny_config(), spec_of(arch))
    emb = model.eval().encode(params).detach()
    meshes = decode_meshes(model, emb, resolution=16)
    assert len(meshes) == 2
    out = interpolation_strip(model, emb[0], emb[1], tmp_path / "strip.png", steps=3, resolution=16)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_trained_inr2vec_reconstructs_its_teachers(sphere_inrs, tiny_config):
    """End to end: 300 steps on four sphere-like INRs, then decoded meshes against the teachers'
    meshes (4000 surface samples each, whose own sampling noise is ~0.015 Chamfer)."""
    torch.manual_seed(0)
    arch, params = sphere_inrs([0.3, 0.45, 0.6, 0.75], width=64)
    model = Inr2vec(tiny_config(), spec_of(arch))
    train_on(model, params, adamw(model, 3e-3), epochs=300, generator=torch.Generator().manual_seed(0))
    result = reconstruction_quality(model, params, resolution=48, n_points=4000, threshold=0.05)
    assert result["failed"] == 0 and result["chamfer"] < 0.04 and result["fscore"] > 0.9, result
