"""Garment model files (safetensors, nothing unpickled) and the evaluation helpers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import trimesh

from inrzoo.zoo.drapenet import GarmentModel
from inrzoo.zoo.drapenet import evaluate as ev
from inrzoo.zoo.drapenet.checkpoint import load_garment_model, save_garment_model
from inrzoo.zoo.inr2vec.checkpoint import to_bytes


def test_a_saved_model_loads_back_with_its_config_and_outputs(tiny_config, tmp_path):
    model = GarmentModel(tiny_config).eval()
    uri = save_garment_model(model, tiny_config, str(tmp_path / "m.safetensors"), extra={"epochs": 3})
    again, config, extra = load_garment_model(uri)
    assert config == tiny_config and extra == {"epochs": 3} and not again.training
    cloud, queries = torch.rand(2, 32, 3), torch.rand(2, 20, 3)
    torch.testing.assert_close(again.udf(again.encode(cloud), queries), model.udf(model.encode(cloud), queries))


def test_bad_model_files_are_named(tiny_config, tmp_path):
    with pytest.raises(FileNotFoundError, match="no garment model"):
        load_garment_model(str(tmp_path / "missing.safetensors"))
    other = tmp_path / "other.safetensors"
    other.write_bytes(to_bytes(torch.nn.Linear(2, 2), {"format": "something/1"}))
    with pytest.raises(ValueError, match="is not"):
        load_garment_model(str(other))


def test_scores_and_measures():
    sphere = trimesh.creation.icosphere(subdivisions=3, radius=0.3)
    good = ev.scores(sphere, sphere, 4000, tau=0.01)
    assert good["chamfer"] < 1e-6 and good["fscore"] == 1.0
    bigger = trimesh.creation.icosphere(subdivisions=3, radius=0.4)
    apart = ev.scores(bigger, sphere, 4000, tau=0.01)
    assert apart["chamfer"] == pytest.approx(0.1, abs=0.005) and apart["fscore"] == 0.0
    empty = trimesh.Trimesh(np.zeros((0, 3)), np.zeros((0, 3), dtype=int))
    assert ev.scores(empty, sphere, 100, 0.01)["fscore"] == 0.0
    assert ev.nearest_training(sphere, [bigger, sphere], 1000, 0.01)["chamfer"] < 1e-6
    assert ev.sleeve_reach(sphere) == pytest.approx(0.3, abs=0.01)
    assert ev.hem_height(sphere) == pytest.approx(-0.3, abs=0.01)
    low, high = ev.cube_bounds("top")
    assert np.ptp(high - low) == pytest.approx(0.0) and (low <= ev.BOUNDS["top"][0]).all()
    values = ev.attribute_values([{"sleeve": 0.1}, {"hem": -0.3}], "sleeve")
    assert values[0] == 0.1 and np.isnan(values[1])
