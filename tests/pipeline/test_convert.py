"""End-to-end conversions on local Ray: failures recorded, resume, worker-count independence, MLflow."""

from __future__ import annotations

import mlflow
import numpy as np
import pytest
import torch

from inrzoo.pipeline import convert
from inrzoo.store import STATUS_CODES, WeightWriter, open_weights

pytestmark = pytest.mark.slow


def plt_image(path: str) -> np.ndarray:
    from inrzoo.render import pyplot

    return pyplot().imread(path)


def stored_params(uri: str) -> dict[str, np.ndarray]:
    ds = open_weights(uri, status=None)
    return {name: np.asarray(arr[:]) for name, arr in ds.groups[0].arrays.items()}


def test_conversion_records_the_broken_mesh_and_tracks_the_run(local_ray, mesh_folder, tmp_path, tiny_config):
    out = str(tmp_path / "ds.zarr")
    report = convert(tiny_config(mesh_folder, out, tmp_path))
    assert (report.rows, report.ok, report.failed, report.pending) == (5, 4, 1, 0)
    ds = open_weights(out, status=None)
    failed = [r for r in ds[:] if r.status == "failed"]
    assert len(failed) == 1 and "broken.stl" in failed[0].error
    ok = open_weights(out)
    assert len(ok) == 4 and all(np.isfinite(r.metrics["surface_error"]) for r in ok[:])
    assert all(0.0 <= r.metrics["fscore"] <= 1.0 for r in ok[:])  # the zero-level-set check ran
    assert {r.label_name for r in ok[:]} == {"part", "block"}
    assert ds.attrs["config"]["fit"]["max_epochs"] == 2  # the resolved config travels with the data
    # Stored in float16 by default (fitted in float32); readers still get float32 tensors.
    assert ds.groups[0].dtype == "float16" and ds.attrs["config"]["fit"]["dtype"] == "float32"
    assert all(p.dtype == torch.float32 for p in ok[0].params.values())

    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    run = mlflow.get_run(report.mlflow_run_id)
    assert run.data.params["fit.max_epochs"] == "2" and run.data.params["preset"] == "davies"
    assert run.info.run_name == "convert meshes davies"  # a plain folder is named by its last component
    assert run.data.metrics["shapes_ok"] == 4 and run.data.metrics["shapes_failed"] == 1
    metrics = run.data.metrics
    for name in ("surface_error_median", "surface_error_p93", "surface_error_max"):  # legible in the UI too
        assert metrics[f"{name}_x1000"] == pytest.approx(1000 * metrics[name])
    assert "fraction_below_0.003" in metrics and "fraction_above_0.01" in metrics
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(report.mlflow_run_id)}
    assert {"surface_error_histogram.png", "originals_and_reconstructions.png", "README.md",
            "resolved_config.yaml"} <= artifacts
    picture = plt_image(mlflow.artifacts.download_artifacts(run_id=report.mlflow_run_id,
                                                            artifact_path="originals_and_reconstructions.png",
                                                            dst_path=str(tmp_path / "art")))
    assert picture.shape[1] >= 4 * 96 and picture.shape[0] >= 2 * 96  # 4 ok rows: originals above INRs
    inputs = run.inputs.dataset_inputs
    assert len(inputs) == 1 and inputs[0].dataset.digest


def test_resubmission_resumes_pending_units_with_identical_weights(local_ray, mesh_folder, tmp_path, tiny_config):
    out = str(tmp_path / "ds.zarr")
    cfg = tiny_config(mesh_folder, out, tmp_path, "tracking.enabled=false")
    convert(cfg)
    before = stored_params(out)
    again = convert(cfg)
    assert again.scheduled_shapes == 0 and again.ok == 4

    # An interrupted run leaves whole units pending (status is written last): fake that for unit 0.
    writer = WeightWriter.open(out)
    unit = writer.regions()[0]
    writer.records["status"][unit.start:unit.stop] = STATUS_CODES["pending"]
    resumed = convert(cfg)
    assert resumed.scheduled_shapes == len(unit) and resumed.pending == 0
    after = stored_params(out)
    for name in before:
        np.testing.assert_array_equal(after[name], before[name])


def test_result_does_not_depend_on_the_number_of_workers(local_ray, mesh_folder, tmp_path, tiny_config):
    common = ("tracking.enabled=false", "runtime.cpus_per_fit_worker=0.5", "runtime.prepare_cpus=0.5")
    # Units of 2 rows in batches of 1: "one" fits a unit's two batches side by side (its worker's
    # share is both CPUs), "two" one after the other (a share of one CPU each).
    common += ("fit_group_size=1",)
    runs = {"one": ("runtime.fit_workers=1",), "two": ("runtime.fit_workers=2",), "local": ("runtime.executor=local",)}
    params = {}
    for name, extra in runs.items():
        out = str(tmp_path / f"{name}.zarr")
        convert(tiny_config(mesh_folder, out, tmp_path, *common, *extra))
        params[name] = stored_params(out)
    for name in params["one"]:
        np.testing.assert_array_equal(params["two"][name], params["one"][name])
        np.testing.assert_array_equal(params["local"][name], params["one"][name])


def test_units_fitted_together_give_the_same_weights(local_ray, mesh_folder, tmp_path, tiny_config):
    """runtime.units_per_fit=2: a fitting actor takes two prepared units at a time (map_batches;
    in the local executor, two units in turn) and fits their shapes as one group; every unit is
    still written as its own region, the broken mesh still fails alone. The grouping changes,
    so the weights agree within float rounding."""
    common = ("tracking.enabled=false", "fit_group_size=0")
    runs = {"single": (), "merged": ("runtime.units_per_fit=2",),
            "merged-local": ("runtime.units_per_fit=2", "runtime.executor=local")}
    params = {}
    for name, extra in runs.items():
        out = str(tmp_path / f"{name}.zarr")
        report = convert(tiny_config(mesh_folder, out, tmp_path, *common, *extra))
        assert (report.rows, report.ok, report.failed, report.pending) == (5, 4, 1, 0), name
        params[name] = stored_params(out)
    for name in params["single"]:
        for other in ("merged", "merged-local"):
            np.testing.assert_allclose(params[other][name], params["single"][name], rtol=1e-4, atol=1e-5)


def test_resuming_with_another_config_is_refused(local_ray, mesh_folder, tmp_path, tiny_config):
    out = str(tmp_path / "ds.zarr")
    convert(tiny_config(mesh_folder, out, tmp_path, "tracking.enabled=false"))
    with pytest.raises(ValueError, match="different conversion"):
        convert(tiny_config(mesh_folder, out, tmp_path, "tracking.enabled=false", "fit.max_epochs=3"))
