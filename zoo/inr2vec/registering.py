"""Registering a trained inr2vec encoder in the MLflow zoo, behind the config's gates.

The version is a model from code (mlflow_model.py) with the model's safetensors file as its
only artifact, a signature and an input example (flattened INR weights in, embeddings out), and
the lineage tags inrzoo.dataset / inrzoo.dataset_digest / inrzoo.format_version /
inrzoo.git_commit. The alias (`champion`) is set only if every gate passes.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from inrzoo.registry import RegistryConfig, git_commit, log_model_from_code, promote_if_gates_pass
from inrzoo.zoo.inr2vec.checkpoint import save_inr2vec
from inrzoo.zoo.inr2vec.model import Inr2vec

MODEL_CODE = Path(__file__).with_name("mlflow_model.py")


@dataclass
class Registration:
    name: str
    version: str
    promoted: bool
    gates: str


def register_encoder(model: Inr2vec, example_flat: np.ndarray, cfg: RegistryConfig, metrics: dict[str, float], *,
                     arch_json: str, dataset_uri: str, dataset_digest: str, format_version: str) -> Registration:
    """Log and register `model` in the active MLflow run, then promote it if the gates pass."""
    from mlflow.models import infer_signature

    if not cfg.model_name:
        raise ValueError("registry.model_name is empty: nothing to register under")
    model = model.eval()
    example = np.asarray(example_flat, dtype=np.float32)
    with torch.no_grad():
        from inrzoo.zoo.inr2vec.mlflow_model import unflatten

        output = model.encode(unflatten(torch.from_numpy(example), model.param_shapes)).numpy()
    tags = {"inrzoo.dataset": dataset_uri, "inrzoo.dataset_digest": dataset_digest,
            "inrzoo.format_version": format_version, "inrzoo.git_commit": git_commit(Path(__file__).parent),
            "inrzoo.kind": "inr2vec-encoder"}
    description = cfg.description or (f"inr2vec encoder trained on {dataset_uri}: flattened INR weights "
                                      f"[B, {example.shape[1]}] in, embeddings [B, {output.shape[1]}] out")
    with tempfile.TemporaryDirectory(prefix="inr2vec-register-") as tmp:
        weights = save_inr2vec(model.cpu(), str(Path(tmp) / "inr2vec.safetensors"),
                               extra={"arch": arch_json, "dataset": dataset_uri, "dataset_digest": dataset_digest})
        version = log_model_from_code(MODEL_CODE, {"model": weights}, registered_name=cfg.model_name,
                                      signature=infer_signature(example, output), input_example=example,
                                      tags=tags, description=description)
    promoted, why = promote_if_gates_pass(cfg.model_name, str(version.version), metrics, cfg)
    return Registration(cfg.model_name, str(version.version), promoted, why)
