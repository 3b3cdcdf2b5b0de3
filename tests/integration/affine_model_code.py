"""An MLflow "model from code" for the integration test: y = x @ w + b with the weights in a
safetensors artifact. MLflow runs this file to load the model, so nothing is unpickled."""

import mlflow
import numpy as np
from mlflow.pyfunc import PythonModel
from safetensors.numpy import load_file


class AffineModel(PythonModel):
    def load_context(self, context):
        tensors = load_file(context.artifacts["weights"])
        self.w, self.b = tensors["w"], tensors["b"]

    def predict(self, context, model_input, params=None):
        return np.asarray(model_input, dtype=np.float32) @ self.w + self.b


mlflow.models.set_model(AffineModel())
