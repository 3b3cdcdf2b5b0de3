"""A registered zoo model as an MLflow "model from code" (MLflow runs this file to load it).

Artifact "model": the model file of inrzoo.zoo.core.checkpoint (safetensors; the registry name,
config and data spec in its header). The network is rebuilt from the zoo's model registry and
its weights loaded from the tensors: nothing is unpickled. `predict` is the model's own
(`ZooModel.predict`: for encoders, flattened INR weights [B, P] -> embeddings [B, E]).
"""

from __future__ import annotations

import mlflow
import numpy as np
from mlflow.pyfunc import PythonModel

from inrzoo.zoo.core.checkpoint import load_model


class ZooPyfuncModel(PythonModel):
    def load_context(self, context):
        self.model, self.extra = load_model(context.artifacts["model"])

    def predict(self, context, model_input, params=None):
        return self.model.predict(np.asarray(model_input))


mlflow.models.set_model(ZooPyfuncModel())
