"""The zoo registry on an embedded MLflow store: logged from code, gated aliases, listing."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow.models import infer_signature
from safetensors.numpy import save_file

from inrzoo.cli import main
from inrzoo.registry import (
    Gate,
    RegistryConfig,
    list_zoo,
    log_model_from_code,
    parse_model_ref,
    promote_if_gates_pass,
    pull_model,
)

MODEL_CODE = Path(__file__).parent / "integration" / "affine_model_code.py"

pytestmark = pytest.mark.slow


@pytest.fixture()
def tracking(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment_id=mlflow.create_experiment("zoo", artifact_location=(tmp_path / "a").as_uri()))
    return uri


def register(tmp_path, name):
    weights = tmp_path / "weights.safetensors"
    save_file({"w": np.eye(2, dtype=np.float32), "b": np.ones(2, dtype=np.float32)}, str(weights))
    x = np.zeros((1, 2), dtype=np.float32)
    with mlflow.start_run():
        return log_model_from_code(MODEL_CODE, {"weights": str(weights)}, registered_name=name,
                                   signature=infer_signature(x, x), input_example=x,
                                   tags={"inrzoo.dataset": "file:///d.zarr"}, description="affine test model")


def test_alias_only_when_every_gate_passes(tracking, tmp_path):
    version = register(tmp_path, "affine")
    cfg = RegistryConfig(model_name="affine", gates=[Gate("accuracy", ">=", 0.5), Gate("loss", "<", 1.0)])
    promoted, why = promote_if_gates_pass("affine", version.version, {"accuracy": 0.4, "loss": 0.1}, cfg)
    assert not promoted and "accuracy=0.4 >= 0.5: fail" in why
    assert mlflow.MlflowClient().get_registered_model("affine").aliases == {}
    promoted, _ = promote_if_gates_pass("affine", version.version, {"accuracy": 0.9, "loss": 0.1}, cfg)
    assert promoted
    model = mlflow.pyfunc.load_model("models:/affine@champion")
    np.testing.assert_allclose(model.predict(np.array([[1.0, 2.0]], dtype=np.float32)), [[2.0, 3.0]])


def test_list_zoo_shows_versions_aliases_and_tags(tracking, tmp_path):
    first = register(tmp_path, "affine")
    register(tmp_path, "affine")
    promote_if_gates_pass("affine", first.version, {"accuracy": 1.0}, RegistryConfig(gates=[Gate("accuracy")]))
    rows = list_zoo(tracking)
    assert [(r["name"], r["version"], r["aliases"]) for r in rows] == [("affine", "2", []), ("affine", "1", ["champion"])]
    assert rows[1]["tags"]["inrzoo.dataset"] == "file:///d.zarr" and rows[1]["description"] == "affine test model"


def test_a_relative_gate_compares_with_the_baseline_of_the_same_evaluation():
    gate = Gate("drapenet_b2g", "<=", 1.0, baseline="skinning_b2g")
    assert gate.passes({"drapenet_b2g": 0.003, "skinning_b2g": 0.005})
    assert not gate.passes({"drapenet_b2g": 0.006, "skinning_b2g": 0.005})
    assert not gate.passes({"drapenet_b2g": 0.003})  # no baseline measured: no alias
    assert gate.describe({"drapenet_b2g": 0.006, "skinning_b2g": 0.005}) == \
        "drapenet_b2g=0.006 <= 1.0 x skinning_b2g=0.005: fail"


def test_gate_rejects_unknown_comparator():
    with pytest.raises(ValueError, match="op must be one of"):
        Gate("accuracy", "=>", 0.5)


def test_pull_downloads_a_version_that_loads_offline(tracking, tmp_path):
    first = register(tmp_path, "affine")
    register(tmp_path, "affine")
    promote_if_gates_pass("affine", first.version, {"accuracy": 1.0}, RegistryConfig(gates=[Gate("accuracy")]))
    info = pull_model("affine@champion", tmp_path / "pulled")
    assert (info["version"], info["aliases"]) == ("1", ["champion"])
    model = mlflow.pyfunc.load_model(str(tmp_path / "pulled"))
    np.testing.assert_allclose(model.predict(np.array([[1.0, 2.0]], dtype=np.float32)), [[2.0, 3.0]])
    assert pull_model("models:/affine", tmp_path / "newest")["version"] == "2"
    assert main(["zoo", "pull", "affine/1", str(tmp_path / "cli"), "--tracking-uri", tracking]) == 0
    assert json.loads((tmp_path / "cli" / "inrzoo-model.json").read_text())["aliases"] == ["champion"]
    with pytest.raises(ValueError, match="'affine@nope'"):
        pull_model("affine@nope", tmp_path / "x")


def test_model_refs_parse():
    assert parse_model_ref("models:/zoo-inr2vec@champion") == ("zoo-inr2vec", "champion", None)
    assert parse_model_ref("zoo/3") == ("zoo", None, "3") and parse_model_ref("zoo") == ("zoo", None, None)
    with pytest.raises(ValueError, match="expected NAME@ALIAS"):
        parse_model_ref("zoo@")
