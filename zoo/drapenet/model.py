"""DrapeNet's garment generative model as a zoo model ("drapenet"): encoder, decoder, UDF, losses.

Trained by the zoo core on the "garments" data source (`source.py`): per batch, the DGCNN encodes
each garment's surface points to a 32-value code and the CBN decoder predicts the clipped UDF at
the garment's queries; the loss is BCE plus lambda_g times the gradient loss (`losses.py`).
The registered model serves `predict`: point clouds [B, N, 3] of garments -> their codes [B, 32].
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from inrzoo.zoo.core.model import StepContext, ZooModel
from inrzoo.zoo.drapenet.config import DrapeNetConfig
from inrzoo.zoo.drapenet.losses import garment_loss
from inrzoo.zoo.drapenet.networks import CbnDecoder, DgcnnEncoder
from inrzoo.zoo.drapenet.source import GarmentBatch, GarmentSpec


class DrapeNetGarments(ZooModel):
    name = "drapenet"
    config_class = DrapeNetConfig
    data_kind = "garments"

    def __init__(self, config: DrapeNetConfig, spec: GarmentSpec) -> None:
        super().__init__(config, spec)
        if abs(spec.delta - config.delta) > 1e-12:
            raise ValueError(f"the garment samples are clipped at delta {spec.delta}, the model's delta is {config.delta}")
        self.encoder = DgcnnEncoder(config.latent_dim, config.encoder)
        self.decoder = CbnDecoder(config.latent_dim, config.decoder)
        self.delta = config.delta

    def encode(self, points: Tensor) -> Tensor:
        """Garment point clouds [B, N, 3] -> codes [B, latent]."""
        return self.encoder(points)

    def logits(self, codes: Tensor, queries: Tensor) -> Tensor:
        return self.decoder(codes, queries)

    def udf(self, codes: Tensor, queries: Tensor) -> Tensor:
        """Predicted unsigned distance [B, N] in [0, delta]."""
        return torch.sigmoid(self.decoder(codes, queries)) * self.delta

    def losses(self, batch: GarmentBatch, step: StepContext) -> dict[str, Tensor]:
        # The gradient term differentiates the UDF in the queries, also under the core's no_grad evaluation.
        with torch.enable_grad():
            queries = batch.queries.detach().requires_grad_(self.config.grad_weight > 0)
            logits = self.logits(self.encode(batch.surface), queries)
            terms = garment_loss(logits, queries, batch.distances, batch.gradients, self.delta, self.config.grad_weight)
        if not torch.is_grad_enabled():
            terms = {name: value.detach() for name, value in terms.items()}
        return {"loss": terms["total"], "bce": terms["bce"], "grad": terms["grad"]}

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        points = torch.as_tensor(np.asarray(inputs, dtype=np.float32))
        if points.dim() != 3 or points.shape[-1] != 3:
            raise ValueError(f"drapenet serves garment point clouds [B, N, 3], got {list(points.shape)}")
        self.eval()
        with torch.no_grad():
            return self.encode(points.to(next(self.parameters()).device)).cpu().numpy()

    def example_input(self, batch: GarmentBatch) -> np.ndarray:
        return batch.surface[:2].cpu().numpy()
