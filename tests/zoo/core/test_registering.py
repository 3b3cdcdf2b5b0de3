"""Registering a zoo model: a model from code with the model file as its only artifact, tags from
the model's spec, the alias only past the gates, loaded back by models:/NAME@ALIAS unpickling nothing."""

from __future__ import annotations

import pickle

import cloudpickle
import mlflow
import numpy as np
import pytest
import torch

from inr2vec_helpers import tiny_config, weight_data, write_dataset
from inrzoo.registry import Gate, RegistryConfig, list_zoo
from inrzoo.zoo.core.model import flatten
from inrzoo.zoo.core.registering import register_model
from inrzoo.zoo.inr2vec import Inr2vec
from inrzoo.zoo.linear.model import LinearAutoencoder, LinearConfig


@pytest.mark.slow
@pytest.mark.parametrize("which", ["inr2vec", "linear"])
def test_registered_models_load_from_code_and_get_their_alias_only_past_the_gates(which, siren_families, tmp_path,
                                                                                  monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment_id=mlflow.create_experiment("zoo", artifact_location=(tmp_path / "a").as_uri()))
    arch, params, labels = siren_families(2)
    data = weight_data(write_dataset(str(tmp_path / "d.zarr"), arch, params, labels).uri, test_fraction=0.0)
    model = (Inr2vec(tiny_config(), data.spec()) if which == "inr2vec" else LinearAutoencoder(LinearConfig(4), data.spec()))
    name = f"{which}-test"
    cfg = RegistryConfig(model_name=name, gates=[Gate("accuracy", ">=", 0.9)])
    extra = {"dataset": "s3://b/d.zarr", "dataset_digest": "abc123"}
    with mlflow.start_run():
        failed = register_model(model, data, cfg, {"accuracy": 0.5}, extra)
        passed = register_model(model, data, cfg, {"accuracy": 0.95}, extra)
    assert not failed.promoted and "accuracy=0.5 >= 0.9: fail" in failed.gates and passed.promoted
    rows = {r["version"]: r for r in list_zoo(uri)}
    assert rows[passed.version]["aliases"] == ["champion"] and rows[failed.version]["aliases"] == []
    tags = rows[passed.version]["tags"]
    assert tags["inrzoo.model"] == which and tags["inrzoo.dataset_digest"] == "abc123" and "inrzoo.git_commit" in tags
    assert tags["inrzoo.inr_arch"].startswith("siren")

    def refuse(*args, **kwargs):
        raise AssertionError("loading the model tried to unpickle")

    for module, attr in ((pickle, "load"), (pickle, "loads"), (cloudpickle, "load"), (cloudpickle, "loads"),
                         (torch, "load")):
        monkeypatch.setattr(module, attr, refuse)
    loaded = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    assert loaded.metadata.signature is not None
    flat = flatten(params).numpy()
    with torch.no_grad():
        np.testing.assert_allclose(loaded.predict(flat), model.eval().encode(params).numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(Exception, match="does not match expected shape"):  # the signature guards the width
        loaded.predict(flat[:, :-1])
