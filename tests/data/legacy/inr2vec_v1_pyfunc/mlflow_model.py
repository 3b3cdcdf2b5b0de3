"""The registered inr2vec encoder as an MLflow "model from code" (MLflow runs this file to load it).

Artifact "model": the safetensors file of `save_inr2vec` (state_dict plus the config and the INR
parameter shapes in its header); the network is rebuilt from that config, nothing is unpickled.

predict input: a float32 array [B, P], each row one INR's parameters flattened in the canonical
order of its architecture (`build(spec).param_shapes()`, as `inrzoo.store` loaders give with
flat=True). Output: the embeddings, float32 [B, embedding_dim].
"""

from __future__ import annotations

import math

import mlflow
import numpy as np
import torch
from mlflow.pyfunc import PythonModel

from inrzoo.zoo.inr2vec.checkpoint import load_inr2vec


def unflatten(flat: torch.Tensor, param_shapes: dict[str, tuple[int, ...]]) -> dict[str, torch.Tensor]:
    """[B, P] rows back to {name: [B, *shape]} in canonical order; P must match exactly."""
    sizes = [math.prod(shape) for shape in param_shapes.values()]
    if flat.dim() != 2 or flat.shape[1] != sum(sizes):
        raise ValueError(f"expected flattened INR weights of shape [B, {sum(sizes)}], got {list(flat.shape)}")
    parts = torch.split(flat, sizes, dim=1)
    return {name: part.reshape(len(flat), *shape) for (name, shape), part in zip(param_shapes.items(), parts)}


class Inr2vecEncoderModel(PythonModel):
    def load_context(self, context):
        self.model, self.extra = load_inr2vec(context.artifacts["model"])

    def predict(self, context, model_input, params=None):
        flat = torch.as_tensor(np.asarray(model_input, dtype=np.float32))
        with torch.no_grad():
            return self.model.encode(unflatten(flat, self.model.param_shapes)).numpy()


mlflow.models.set_model(Inr2vecEncoderModel())
