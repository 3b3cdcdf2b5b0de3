"""Model files and training states of the zoo core (safetensors, nothing unpickled), and the
inr2vec files written before the core (tests/data/legacy) still loading."""

from __future__ import annotations

import pickle
from pathlib import Path

import cloudpickle
import numpy as np
import pytest
import torch

from inr2vec_helpers import adamw, spec_of, train_on
from inrzoo.zoo.core.checkpoint import check_same_data, load_model, load_training_state, save_model, save_training_state
from inrzoo.zoo.core.model import unflatten
from inrzoo.zoo.inr2vec import Inr2vec

LEGACY = Path(__file__).resolve().parents[2] / "data" / "legacy"


@pytest.fixture
def no_pickle(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("loading tried to unpickle")

    for module, attr in ((pickle, "load"), (pickle, "loads"), (cloudpickle, "load"), (cloudpickle, "loads"),
                         (torch, "load")):
        monkeypatch.setattr(module, attr, refuse)


def test_model_file_round_trip_gives_the_same_embeddings_and_fields(sphere_inrs, tiny_config, tmp_path, no_pickle):
    torch.manual_seed(0)
    arch, params = sphere_inrs([0.4, 0.6])
    config = tiny_config()
    config.encoder.layers = "all"
    model = Inr2vec(config, spec_of(arch))
    train_on(model, params, adamw(model))  # BatchNorm statistics move
    uri = save_model(model, str(tmp_path / "m.safetensors"), extra={"dataset": "d.zarr"})
    loaded, extra = load_model(uri)
    assert extra == {"dataset": "d.zarr"} and loaded.config == model.config and loaded.spec == model.spec
    model.eval()
    q = torch.rand(2, 50, 3)
    with torch.no_grad():
        torch.testing.assert_close(loaded.encode(params), model.encode(params))
        torch.testing.assert_close(loaded(params, q), model(params, q))


def test_bad_model_files_are_named(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="bad.safetensors"):
        load_model(str(bad))
    with pytest.raises(FileNotFoundError, match="missing"):
        load_model(str(tmp_path / "missing.safetensors"))


def test_training_state_restores_model_and_optimizer(siren_families, tiny_config, tmp_path):
    torch.manual_seed(0)
    arch, params, _ = siren_families(4)
    model = Inr2vec(tiny_config(), spec_of(arch))
    optimizer = adamw(model)
    train_on(model, params, optimizer)
    save_training_state(tmp_path / "c", model, optimizer, epoch=7, extra={"dataset": "d.zarr"})
    fresh = Inr2vec(tiny_config(), spec_of(arch))
    fresh_opt = adamw(fresh)
    assert load_training_state(tmp_path / "c", fresh, fresh_opt) == 7
    for (name, a), b in zip(model.state_dict().items(), fresh.state_dict().values()):
        torch.testing.assert_close(a, b, msg=name)
    state, restored = optimizer.state_dict(), fresh_opt.state_dict()
    assert restored["param_groups"] == state["param_groups"]
    for index, entry in state["state"].items():
        for key, value in entry.items():
            torch.testing.assert_close(torch.as_tensor(restored["state"][index][key]), torch.as_tensor(value))
    # One more identical step on both gives identical weights: the moments really came back.
    train_on(model, params, optimizer, generator=torch.Generator().manual_seed(1))
    train_on(fresh, params, fresh_opt, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(model.eval().encode(params), fresh.eval().encode(params))
    other = Inr2vec(tiny_config(clamp=0.2), spec_of(arch))
    with pytest.raises(ValueError, match="another model, model config or data spec"):
        load_training_state(tmp_path / "c", other)
    with pytest.raises(FileNotFoundError, match="not a training state"):
        load_training_state(tmp_path, other)


def test_a_training_state_of_other_data_is_not_resumed(siren_families, tiny_config, tmp_path):
    arch, _, _ = siren_families(2)
    model = Inr2vec(tiny_config(), spec_of(arch))
    saved = {"dataset": "/data/drape", "dataset_digest": "aaaa", "run_name": "drape_1"}
    save_training_state(tmp_path, model, adamw(model), epoch=6, extra=saved)
    check_same_data(tmp_path, saved)  # the same data: resumes
    check_same_data(tmp_path, {})  # a caller that knows no digest cannot tell
    with pytest.raises(ValueError, match="run drape_1 was trained on data with digest aaaa, and /data/drape now has digest bbbb"):
        check_same_data(tmp_path, {**saved, "dataset_digest": "bbbb"})


def test_files_written_before_the_core_still_load(no_pickle, tiny_config):
    expected = np.load(LEGACY / "inr2vec_v1_expected.npz")
    model, extra = load_model(str(LEGACY / "inr2vec_v1.safetensors"))
    assert isinstance(model, Inr2vec) and extra["dataset"] == "memory://legacy.zarr"
    np.testing.assert_allclose(model.predict(expected["flat"]), expected["embeddings"], rtol=1e-5, atol=1e-6)
    # The old training-state folder resumes into a model built from the migrated config.
    fresh = Inr2vec(model.config, model.spec)
    assert load_training_state(LEGACY / "inr2vec_v1_state", fresh, adamw(fresh)) == 1
    with torch.no_grad():
        params = unflatten(torch.as_tensor(expected["flat"]), fresh.param_shapes)
        np.testing.assert_allclose(fresh.eval().encode(params).numpy(), expected["embeddings"], rtol=1e-5, atol=1e-6)


def test_a_pyfunc_model_registered_before_the_core_still_serves(no_pickle):
    import mlflow

    expected = np.load(LEGACY / "inr2vec_v1_expected.npz")
    served = mlflow.pyfunc.load_model(str(LEGACY / "inr2vec_v1_pyfunc"))
    np.testing.assert_allclose(served.predict(expected["flat"]), expected["embeddings"], rtol=1e-5, atol=1e-6)
