"""The MLflow UI as a person sees it, in a real headless browser (Debian's chromium, driven by
selenium): the experiments page, a submitted conversion's runs table, run page and render grid,
and a registered model's version page, each checked on its visible text. The screenshots are
kept under INRZOO_SCREENSHOTS (default: test-screenshots/mlflow-ui in the checkout)."""

from __future__ import annotations

import os
from pathlib import Path

import mlflow
import pytest

from browser_helpers import Browser  # tests/ is on the import path (pyproject)
from inrzoo.tracking import ui_url

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("INRZOO_SCREENSHOTS", REPO / "test-screenshots" / "mlflow-ui"))


@pytest.fixture
def browser():
    browser = Browser(SCREENSHOTS)
    yield browser
    browser.close()


def test_experiments_conversion_run_and_registered_model_read_in_a_browser(browser, reference, resumed_training,
                                                                           mlflow_server):
    uri = mlflow_server.tracking_uri
    mlflow.set_tracking_uri(uri)
    client = mlflow.MlflowClient()
    out, _, _ = reference
    run = mlflow.search_runs(experiment_names=["it-convert"], filter_string=f"tags.`inrzoo.dataset` = '{out}'",
                             output_format="list")[0]
    experiment = run.info.experiment_id
    assert run.info.run_name == "convert meshes davies"  # the uploaded folder is called meshes

    page = browser.open(f"{uri}/#/experiments", "experiments", ["it-convert", "it-train"])
    assert "Conversions of shape collections" in page  # the experiment's description

    # The links jobs log open the model-training view: the runs table, not GenAI traces.
    page = browser.open(ui_url(uri, f"experiments/{experiment}"), "conversion-runs", ["Runs", run.info.run_name])
    assert "Token usage" not in page

    page = browser.open(ui_url(uri, f"experiments/{experiment}/runs/{run.info.run_id}"), "conversion-run",
                        [run.info.run_name, "surface_error_median_x1000", "shapes_failed", "Description"])
    assert f"into the weight dataset {out} with the davies preset" in page
    median = run.data.metrics["surface_error_median_x1000"]
    assert f"{median:.4f}"[:5] in page  # the x1000 value survives the UI, not rounded to 0.00

    grid = "originals_and_reconstructions.png"
    page = browser.open(ui_url(uri, f"experiments/{experiment}/runs/{run.info.run_id}/artifacts/{grid}"),
                        "conversion-render-grid", [grid, "surface_error_histogram.png", "README.md"])
    shown = browser.driver.execute_script(  # the preview is an <img> of a blob: URL
        "return [...document.images].filter(i => i.complete).map(i => [i.naturalWidth, i.naturalHeight])")
    assert any(w >= 6 * 96 and h >= 2 * 96 for w, h in shown), shown  # 6 ok rows, originals above INRs

    name = resumed_training.model_name
    version = client.get_model_version_by_alias(name, "champion").version
    page = browser.open(ui_url(uri, f"models/{name}/versions/{version}"), "registered-model-version",
                        [name, f"Version {version}", "champion"])
    assert "inrzoo.model" in page and "linear" in page  # the version's tags
