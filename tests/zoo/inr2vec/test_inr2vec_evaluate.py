"""Meshes from decoded and teacher fields, Chamfer / F-score against the input INRs, strips."""

from __future__ import annotations

import math

import pytest
import torch

import inrzoo.geometry
from inrzoo.inr import select_params
from inrzoo.zoo.inr2vec import Inr2vec, make_optimizer, train_epoch
from inrzoo.zoo.inr2vec.evaluate import compare_fields, decode_meshes, reconstruction_quality, teacher_field
from inrzoo.zoo.inr2vec.plots import interpolation_strip

pytestmark = pytest.mark.skipif(not hasattr(inrzoo.geometry, "extract_mesh"),
                                reason="inrzoo.geometry.extract_mesh not available yet")


def test_teacher_against_itself_and_against_another_radius(sphere_inrs, tiny_config):
    arch, params = sphere_inrs([0.4, 0.7], width=64)
    model = Inr2vec(arch.param_shapes(), tiny_config())
    small = teacher_field(arch.forward, select_params(params, 0), model)
    large = teacher_field(arch.forward, select_params(params, 1), model)
    # Two independent 4000-point samples of one surface lie ~0.015 apart (sampling noise only).
    same = compare_fields(small, small, model, resolution=32, n_points=4000, threshold=0.05)
    other = compare_fields(small, large, model, resolution=32, n_points=4000, threshold=0.05)
    assert same["chamfer"] < 0.03 and same["fscore"] > 0.95, same
    assert other["chamfer"] > 0.1 and other["fscore"] < 0.5, other


def test_reconstruction_quality_counts_every_shape(sphere_inrs, tiny_config):
    torch.manual_seed(0)
    arch, params = sphere_inrs([0.4, 0.6], width=32)
    model = Inr2vec(arch.param_shapes(), tiny_config())
    result = reconstruction_quality(model, params, arch.forward, resolution=24, n_points=500)
    assert result["scored"] + result["failed"] == 2
    if result["scored"]:
        assert result["chamfer"] >= 0 and 0 <= result["fscore"] <= 1
    else:
        assert math.isnan(result["chamfer"])


def test_decode_meshes_and_interpolation_strip(sphere_inrs, tiny_config, tmp_path):
    torch.manual_seed(0)
    arch, params = sphere_inrs([0.4, 0.6], width=32)
    model = Inr2vec(arch.param_shapes(), tiny_config())
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
    model = Inr2vec(arch.param_shapes(), tiny_config())
    optimizer = make_optimizer(model, lr=3e-3, weight_decay=1e-2)
    gen = torch.Generator().manual_seed(0)
    for _ in range(300):
        train_epoch(model, [params], optimizer, arch.forward, generator=gen)
    result = reconstruction_quality(model, params, arch.forward, resolution=48, n_points=4000, threshold=0.05)
    assert result["failed"] == 0 and result["chamfer"] < 0.04 and result["fscore"] > 0.9, result
