"""`convert`: the main job of inrzoo, a conversion run tracked in MLflow.

Every conversion is an MLflow run: the resolved config as params, counts, quality and
throughput as metrics, the dataset as an input (URI and digest), and the surface-error
histogram, the dataset card and the resolved config as artifacts.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from inrzoo import config as configlib
from inrzoo import tracking
from inrzoo.logs import show_progress
from inrzoo.pipeline.config import ConvertConfig, resolve
from inrzoo.pipeline.report import dataset_digest, histogram_png, quality
from inrzoo.pipeline.run import ConversionReport, run_conversion
from inrzoo.store import WeightWriter


class _RunTracker:
    """Logs progress metrics during the run (step = shapes finished)."""

    def log_progress(self, progress: Any) -> None:
        import mlflow

        mlflow.log_metrics({"shapes_done": progress.done, "shapes_failed": progress.failed,
                            "shapes_per_hour": progress.rate_per_hour}, step=progress.done)


EXPERIMENT = "inrzoo-conversions"
EXPERIMENT_DESCRIPTION = ("Conversions of shape collections into weight datasets (one INR per shape): "
                          "each run is one `inrzoo convert` / jobs/convert.py attempt.")


def convert(cfg: ConvertConfig) -> ConversionReport:
    """Convert `cfg.source` into the weight dataset `cfg.output.uri` (resuming if it exists)."""
    show_progress()
    resolved = resolve(cfg).as_dict()  # a config that does not resolve fails before any run is opened
    collection = cfg.source.collection
    description = (f"Conversion of the {collection} collection at {cfg.source.uri} into the weight dataset "
                   f"{cfg.output.uri} with the {cfg.preset} preset.")
    tags = {"inrzoo.dataset": cfg.output.uri, "inrzoo.preset": cfg.preset, "inrzoo.collection": collection}
    with tracking.tracked_run(cfg.tracking, experiment=EXPERIMENT, name=f"convert {collection} {cfg.preset}",
                              kind="conversion", description=description, tags=tags,
                              experiment_description=EXPERIMENT_DESCRIPTION) as run:
        if run is None:
            return run_conversion(cfg)
        run.log_params(resolved)
        report = run_conversion(cfg, tracker=_RunTracker())
        report.mlflow_run_id, report.tracking_uri = run.run_id, run.tracking_uri
        _log_outcome(cfg, report, resolved)
    return report


def _log_outcome(cfg: ConvertConfig, report: ConversionReport, resolved: dict[str, Any]) -> None:
    import mlflow

    metrics = {"rows": report.rows, "shapes_ok": report.ok, "shapes_failed": report.failed,
               "shapes_pending": report.pending, "shapes_fitted_this_run": report.scheduled_shapes,
               "seconds": report.seconds, "throughput_shapes_per_hour": report.shapes_per_hour}
    metrics.update(quality(report.surface_errors))
    mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
    writer = WeightWriter.open(cfg.output.uri, cfg.output.storage_options)
    tracking.log_dataset_input(cfg.output.uri, dataset_digest(writer), name=Path(cfg.output.uri.rstrip("/")).name,
                               context="conversion-output")
    with tempfile.TemporaryDirectory() as tmp:
        histogram_png(report.surface_errors, f"{tmp}/surface_error_histogram.png")
        Path(tmp, "README.md").write_text(writer.location.read_text("README.md"))
        Path(tmp, "resolved_config.yaml").write_text(configlib.dump_yaml(resolved))
        mlflow.log_artifacts(tmp)
