"""Registering a trained zoo model in the MLflow registry, behind the config's gates.

The version is an MLflow "model from code" (pyfunc_model.py) whose only artifact is the model
file (checkpoint.save_model: safetensors, config and data spec in its header), with a signature
and an input example from the data, and tags from the model's spec: inrzoo.model, inrzoo.dataset,
inrzoo.dataset_digest, inrzoo.git_commit and, for INR weights, the architecture. The alias is
set only if every gate passes.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from inrzoo.registry import RegistryConfig, git_commit, log_model_from_code, promote_if_gates_pass
from inrzoo.tracking import metric_name
from inrzoo.zoo.core.checkpoint import save_model
from inrzoo.zoo.core.data import DataSource
from inrzoo.zoo.core.model import ZooModel

MODEL_CODE = Path(__file__).with_name("pyfunc_model.py")


@dataclass
class Registration:
    name: str
    version: str
    promoted: bool
    gates: str


def registry_tags(model: ZooModel, extra: dict[str, Any]) -> dict[str, str]:
    tags = {"inrzoo.model": model.name, "inrzoo.kind": f"{model.name}-model",
            "inrzoo.dataset": str(extra.get("dataset", "")), "inrzoo.dataset_digest": str(extra.get("dataset_digest", "")),
            "inrzoo.git_commit": git_commit(Path(__file__).parent)}
    arch = getattr(model.spec, "arch", None)
    if isinstance(arch, dict):
        tags["inrzoo.inr_arch"] = f"{arch.get('name')} {arch.get('hidden')}"
    return tags


def register_model(model: ZooModel, data: DataSource, cfg: RegistryConfig, metrics: dict[str, float],
                   extra: dict[str, Any]) -> Registration:
    """Log and register `model` in the active MLflow run, then promote it if the gates pass."""
    from mlflow.models import infer_signature

    if not cfg.model_name:
        raise ValueError("registry.model_name is empty: nothing to register under")
    model = model.eval().cpu()
    split = "test" if data.split_sizes().get("test", 0) >= 2 else "train"
    example = model.example_input(next(iter(data.batches(split, 2))))
    with torch.no_grad():
        output = model.predict(example)
    description = cfg.description or (f"{model.name} trained on {extra.get('dataset', '')}: input "
                                       f"{list(example.shape[1:])} per item, output {list(output.shape[1:])} per item.")
    with tempfile.TemporaryDirectory(prefix="zoo-register-") as tmp:
        weights = save_model(model, str(Path(tmp) / f"{model.name}.safetensors"), extra=extra)
        version = log_model_from_code(MODEL_CODE, {"model": weights}, registered_name=cfg.model_name,
                                      signature=infer_signature(example, output), input_example=example,
                                      tags=registry_tags(model, extra), description=description)
    # Gates may name a metric as a task returns it (map@1) or as MLflow shows it (eval_map_at_1).
    named = {**metrics, **{metric_name(f"eval_{k}"): v for k, v in metrics.items()}}
    promoted, why = promote_if_gates_pass(cfg.model_name, str(version.version), named, cfg)
    return Registration(cfg.model_name, str(version.version), promoted, why)
