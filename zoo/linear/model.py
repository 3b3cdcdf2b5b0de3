"""The linear autoencoder: flattened weights [K, P] -> embedding [K, E] -> weights [K, P].

Loss: mean squared error between the decoded and the input weights. Our choice, as the
simplest model a weight-space learner is compared with; no paper defines it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import torch.nn.functional as F
from torch import Tensor, nn

from inrzoo.zoo.core.model import StepContext, ZooModel, flatten, unflatten
from inrzoo.zoo.core.weights import WeightBatch, WeightSpec


@dataclass
class LinearConfig:
    embedding_dim: int = 32

    def __post_init__(self) -> None:
        if self.embedding_dim < 1:
            raise ValueError(f"embedding_dim must be positive, got {self.embedding_dim}")


class LinearAutoencoder(ZooModel):
    name = "linear"
    config_class = LinearConfig

    def __init__(self, config: LinearConfig, spec: WeightSpec) -> None:
        super().__init__(config, spec)
        self.param_shapes = spec.shapes
        size = sum(math.prod(shape) for shape in self.param_shapes.values())
        self.embedding_dim = config.embedding_dim
        self.encoder = nn.Linear(size, config.embedding_dim)
        self.decoder = nn.Linear(config.embedding_dim, size)
        self._arch = spec.architecture()

    def encode(self, params: Mapping[str, Tensor]) -> Tensor:
        return self.encoder(flatten(params))

    def decode_weights(self, embeddings: Tensor) -> dict[str, Tensor]:
        return unflatten(self.decoder(embeddings), self.param_shapes)

    def decode_field(self, embeddings: Tensor, queries: Tensor) -> Tensor:
        return self.spec.field_of(self._arch.forward(self.decode_weights(embeddings), queries))

    def losses(self, batch: WeightBatch, step: StepContext) -> dict[str, Tensor]:
        flat = flatten(batch.params)
        return {"loss": F.mse_loss(self.decoder(self.encoder(flat)), flat)}
