"""One way to open an MLflow run (embedded SQLite store): names, descriptions, experiment kind,
continuing an unfinished run by its resume key, and no run at all when tracking is off."""

from __future__ import annotations

import mlflow
import pytest

from inrzoo import tracking
from inrzoo.tracking import TrackingConfig, tracked_run


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    monkeypatch.setenv("INRZOO_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return TrackingConfig()


def test_a_run_is_named_described_and_in_a_model_development_experiment(cfg):
    with tracked_run(cfg, experiment="inrzoo-tests", name="convert folder davies", kind="conversion",
                     description="what it does", tags={"inrzoo.dataset": "d.zarr"},
                     experiment_description="all test runs") as run:
        run.log_params({"fit": {"lr": 1e-4}})
        run.log_metrics({"map@1": 0.5})
    client = mlflow.MlflowClient(run.tracking_uri)
    finished = client.get_run(run.run_id)
    assert finished.info.run_name == "convert folder davies"
    assert finished.data.tags["mlflow.note.content"] == "what it does"
    assert finished.data.tags["inrzoo.kind"] == "conversion" and finished.data.params["fit.lr"] == "0.0001"
    assert finished.data.metrics["map_at_1"] == 0.5
    experiment = client.get_experiment(finished.info.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    assert experiment.tags["mlflow.note.content"] == "all test runs"


def test_an_unfinished_run_with_the_same_key_is_continued(cfg):
    with pytest.raises(RuntimeError):
        with tracked_run(cfg, experiment="inrzoo-tests", name="train toy", kind="training", resume_key="k1") as first:
            raise RuntimeError("worker died")
    with tracked_run(cfg, experiment="inrzoo-tests", name="train toy", kind="training", resume_key="k1") as second:
        assert second.resumed and second.run_id == first.run_id
    with tracked_run(cfg, experiment="inrzoo-tests", name="train toy", kind="training", resume_key="k1") as third:
        assert not third.resumed and third.run_id != first.run_id  # the earlier one finished


def test_tracking_off_opens_no_run(cfg):
    with tracked_run(TrackingConfig(enabled=False), experiment="x", name="y", kind="z") as run:
        assert run is None
    assert tracking.metric_name("recall@10") == "recall_at_10"
