"""One optimization step of the garment model, the Adam optimizer, and codes of whole datasets.

`train_step` is what a training loop calls per batch of `GarmentSamples`; `encode_rows` gives
the latent code of every garment of a samples store (in row order), from its surface points.
"""

from __future__ import annotations

import torch
from torch import Tensor

from inrzoo.zoo.drapenet.config import DrapeNetConfig
from inrzoo.zoo.drapenet.data import GarmentSamples
from inrzoo.zoo.drapenet.losses import garment_loss
from inrzoo.zoo.drapenet.networks import GarmentModel


def make_optimizer(model: GarmentModel, config: DrapeNetConfig) -> torch.optim.Optimizer:
    """Adam on encoder and decoder together (thesis: lr 1e-4)."""
    return torch.optim.Adam(model.parameters(), lr=config.train.lr)


def batch_loss(model: GarmentModel, batch: dict[str, Tensor], config: DrapeNetConfig) -> dict[str, Tensor]:
    """Encode the batch's surface points, decode its queries, and score them (model in any mode)."""
    device = next(model.parameters()).device
    queries = batch["queries"].to(device).requires_grad_(config.grad_weight > 0)
    codes = model.encode(batch["surface"].to(device))
    logits = model.logits(codes, queries)
    return garment_loss(logits, queries, batch["distances"].to(device), batch["gradients"].to(device),
                        config.delta, config.grad_weight)


def train_step(model: GarmentModel, optimizer: torch.optim.Optimizer, batch: dict[str, Tensor],
               config: DrapeNetConfig) -> dict[str, float]:
    model.train()
    losses = batch_loss(model, batch, config)
    optimizer.zero_grad(set_to_none=True)
    losses["total"].backward()
    optimizer.step()
    return {name: float(value.detach()) for name, value in losses.items()}


@torch.no_grad()
def encode_rows(model: GarmentModel, dataset: GarmentSamples, batch_size: int = 8) -> Tensor:
    """Codes [len(dataset), latent] of the dataset's garments, in its order (eval mode)."""
    model.eval()
    device = next(model.parameters()).device
    codes = []
    for start in range(0, len(dataset), batch_size):
        items = [dataset[i] for i in range(start, min(start + batch_size, len(dataset)))]
        codes.append(model.encode(torch.stack([item["surface"] for item in items]).to(device)).cpu())
    return torch.cat(codes)
