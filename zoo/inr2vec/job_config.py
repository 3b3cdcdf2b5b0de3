"""The zoo config of an inr2vec training job (zoo/configs/inr2vec/<dataset>_<variant>.yaml).

One typed file says everything a run needs: which weight dataset and split, the model
(`Inr2vecConfig`: sizes, AdamW, epochs, batch size), how many Ray Train workers, where the
checkpoints go, where MLflow is, what the evaluation runs and which gates the registered
encoder must pass before it gets its alias. Load it with `load_job_config(path, overrides)`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from inrzoo import config as configlib
from inrzoo.registry import RegistryConfig
from inrzoo.zoo.inr2vec.config import ClassifierConfig, Inr2vecConfig


@dataclass
class DatasetSection:
    uri: str = ""
    storage_options: dict[str, Any] = field(default_factory=dict)
    train_split: str = "train"
    val_split: str = "val"
    test_split: str = "test"
    # Used when no row carries `train_split`: a split by source shape (augmented copies follow
    # their original), stratified by label, drawn from `split_seed`.
    split_seed: int = 0
    val_fraction: float = 0.0
    test_fraction: float = 0.25

    def __post_init__(self) -> None:
        if not 0 <= self.val_fraction + self.test_fraction < 1:
            raise ValueError(f"val_fraction + test_fraction must be in [0, 1), got "
                             f"{self.val_fraction} + {self.test_fraction}")


@dataclass
class ScalingSection:
    workers: int = 1  # Ray Train workers (DDP when > 1)
    use_gpu: bool = False
    cpus_per_worker: float = 1.0
    torch_threads: int = 1  # intra-op threads per worker (tiny batches: more threads only wait)

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"scaling.workers must be >= 1, got {self.workers}")


@dataclass
class CheckpointSection:
    # Any pyarrow filesystem URI: a local path, s3://bucket/prefix (credentials from AWS_* and
    # `storage_options`, e.g. {endpoint_override: 127.0.0.1:8333, scheme: http}). Empty: the
    # state directory (INRZOO_STATE_DIR/ray_results).
    storage_path: str = ""
    storage_options: dict[str, Any] = field(default_factory=dict)  # pyarrow.fs.S3FileSystem keywords
    name: str = ""  # the run's folder; empty: derived from the dataset and model config (resumable)
    keep: int = 2  # checkpoints kept
    max_failures: int = 0  # worker failures Ray Train retries from the last checkpoint


@dataclass
class TrackingSection:
    enabled: bool = True
    tracking_uri: str = ""  # empty: MLFLOW_TRACKING_URI, else the embedded SQLite store
    experiment: str = "inrzoo-inr2vec"
    run_name: str = ""


@dataclass
class EvaluationSection:
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    raw_weight_baseline: bool = True  # the same classifier on the flattened weights
    reconstruction_shapes: int = 8  # test INRs decoded and compared by Chamfer / F-score (0: skip)
    mesh_resolution: int = 64
    chamfer_points: int = 2048
    fscore_threshold: float = 0.01
    plots: bool = True  # interpolation strip and t-SNE PNGs
    batch_size: int = 64  # INRs per embedding batch


@dataclass
class Inr2vecJobConfig:
    dataset: DatasetSection = field(default_factory=DatasetSection)
    model: Inr2vecConfig = field(default_factory=Inr2vecConfig)  # epochs and batch size live here
    max_steps_per_epoch: int = 0  # 0: the whole train shard every epoch
    scaling: ScalingSection = field(default_factory=ScalingSection)
    checkpoint: CheckpointSection = field(default_factory=CheckpointSection)
    tracking: TrackingSection = field(default_factory=TrackingSection)
    evaluation: EvaluationSection = field(default_factory=EvaluationSection)
    registry: RegistryConfig = field(default_factory=RegistryConfig)

    def __post_init__(self) -> None:
        if self.model.batch_size < 2:
            raise ValueError(f"model.batch_size must be >= 2 (BatchNorm), got {self.model.batch_size}")

    def run_name(self) -> str:
        """The checkpoint folder: stable for one dataset and model config, so a resubmit resumes
        (the epoch count is left out: raising it continues a finished run)."""
        if self.checkpoint.name:
            return self.checkpoint.name
        model = {k: v for k, v in configlib.to_dict(self.model).items() if k != "epochs"}
        key = json.dumps({"dataset": self.dataset.uri, "model": model}, sort_keys=True)
        return f"inr2vec_{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def load_job_config(path: str | None, overrides: list[str] | tuple[str, ...] = ()) -> Inr2vecJobConfig:
    cfg = configlib.load(Inr2vecJobConfig, path, overrides)
    if not cfg.dataset.uri:
        raise configlib.ConfigError(f"{path or '<defaults>'}: dataset.uri is required")
    return cfg
