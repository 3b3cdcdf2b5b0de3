"""`convert`: the main job of inrzoo, a conversion run tracked in MLflow.

Every conversion is an MLflow run: the resolved config as params, counts, quality (also x1000,
legible in the UI) and throughput as metrics, the dataset as an input (URI and digest), and the
surface-error histogram, originals beside reconstructions, the dataset card and the resolved
config as artifacts.
"""

from __future__ import annotations

import logging
import posixpath
import tempfile
from pathlib import Path
from typing import Any

from inrzoo import config as configlib
from inrzoo import tracking
from inrzoo.logs import show_progress
from inrzoo.pipeline.config import ConvertConfig, resolve
from inrzoo.pipeline.report import comparison_png, dataset_digest, histogram_png, quality, quality_x1000
from inrzoo.pipeline.run import ConversionReport, run_conversion
from inrzoo.pipeline.run_status import DATASET_TAG, close_stale_runs, terminated_as_killed
from inrzoo.redact import install_log_redaction, redact, redact_text
from inrzoo.store import WeightWriter

log = logging.getLogger(__name__)
COMPARISON_ROWS, COMPARISON_SIZE = 8, 96  # chosen: a glance at the result in seconds, not a gallery


class _RunTracker:
    """Logs progress metrics during the run (step = shapes finished)."""

    def log_progress(self, progress: Any) -> None:
        import mlflow

        mlflow.log_metrics({"shapes_done": progress.done, "shapes_failed": progress.failed,
                            "shapes_per_hour": progress.rate_per_hour}, step=progress.done)


EXPERIMENT = "inrzoo-conversions"
EXPERIMENT_DESCRIPTION = ("Conversions of shape collections into weight datasets (one INR per shape): "
                          "each run is one `inrzoo convert` / jobs/convert.py attempt.")


def collection_label(collection: str, uri: str) -> str:
    """What a run is named after: the collection's registry name, or for a plain folder or
    bucket its last path component ("convert meshes fast", as the card's title does)."""
    if collection != "folder":
        return collection
    return posixpath.basename(redact_text(str(uri)).rstrip("/")) or collection


def convert(cfg: ConvertConfig) -> ConversionReport:
    """Convert `cfg.source` into the weight dataset `cfg.output.uri` (resuming if it exists).

    Secrets in the config's storage options never reach an output (inrzoo.redact); a run
    stopped with SIGTERM is marked KILLED, and RUNNING runs that killed drivers left for the
    same dataset are closed when it resumes.
    """
    show_progress()
    install_log_redaction()
    # A config that does not resolve fails before any run is opened.
    resolved = redact(resolve(cfg).as_dict())
    collection, dataset = collection_label(cfg.source.collection, cfg.source.uri), redact_text(cfg.output.uri)
    description = redact_text(f"Conversion of the {collection} collection at {cfg.source.uri} into the weight "
                              f"dataset {cfg.output.uri} with the {cfg.preset} preset.")
    tags = {DATASET_TAG: dataset, "inrzoo.preset": cfg.preset, "inrzoo.collection": collection}
    with tracking.tracked_run(cfg.tracking, experiment=EXPERIMENT, name=f"convert {collection} {cfg.preset}",
                              kind="conversion", description=description, tags=tags,
                              experiment_description=EXPERIMENT_DESCRIPTION) as run:
        if run is None:
            return run_conversion(cfg)
        with terminated_as_killed():
            close_stale_runs(dataset, run.run_id)
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
    q = quality(report.surface_errors)
    metrics.update(q, **quality_x1000(q))
    mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
    writer = WeightWriter.open(cfg.output.uri, cfg.output.storage_options)
    tracking.log_dataset_input(cfg.output.uri, dataset_digest(writer),
                               name=redact_text(Path(cfg.output.uri.rstrip("/")).name), context="conversion-output")
    with tempfile.TemporaryDirectory() as tmp:
        histogram_png(report.surface_errors, f"{tmp}/surface_error_histogram.png")
        comparison(cfg, f"{tmp}/originals_and_reconstructions.png")
        Path(tmp, "README.md").write_text(writer.location.read_text("README.md"))
        Path(tmp, "resolved_config.yaml").write_text(configlib.dump_yaml(resolved))
        mlflow.log_artifacts(tmp)


def comparison(cfg: ConvertConfig, path: str) -> None:
    """The originals-and-reconstructions picture of the first fitted rows; a picture that cannot
    be drawn (an unreadable source, a renderer error) is a warning, never a failed conversion."""
    try:
        comparison_png(cfg.output.uri, cfg.output.storage_options, path, COMPARISON_ROWS, COMPARISON_SIZE)
    except Exception as exc:  # noqa: BLE001 - the dataset and the run are complete without the picture
        log.warning("conversion: no picture of originals and reconstructions in the MLflow run (%s: %s)",
                    type(exc).__name__, exc)
