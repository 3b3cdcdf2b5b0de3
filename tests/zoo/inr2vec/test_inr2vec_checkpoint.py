"""Saving and loading inr2vec without pickle."""

from __future__ import annotations

import pytest
import torch

from inrzoo.zoo.inr2vec import Inr2vec, make_optimizer, train_epoch
from inrzoo.zoo.inr2vec.checkpoint import load_inr2vec, save_inr2vec


def test_round_trip_gives_the_same_embeddings_and_fields(sphere_inrs, tiny_config, tmp_path):
    torch.manual_seed(0)
    arch, params = sphere_inrs([0.4, 0.6])
    config = tiny_config()
    config.encoder.layers = "all"
    model = Inr2vec(arch.param_shapes(), config)
    train_epoch(model, [params], make_optimizer(model, 1e-3, 1e-2), arch.forward)  # BatchNorm stats move
    uri = save_inr2vec(model, str(tmp_path / "m.safetensors"), extra={"arch": arch.spec.to_json()})
    loaded, extra = load_inr2vec(uri)
    assert extra["arch"] == arch.spec.to_json() and loaded.config == model.config
    model.eval()
    q = torch.rand(2, 50, 3)
    torch.testing.assert_close(loaded.encode(params), model.encode(params))
    torch.testing.assert_close(loaded(params, q), model(params, q))


def test_bad_files_are_named(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="bad.safetensors"):
        load_inr2vec(str(bad))
    with pytest.raises(FileNotFoundError, match="missing"):
        load_inr2vec(str(tmp_path / "missing.safetensors"))
