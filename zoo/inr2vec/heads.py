"""Networks that work on inr2vec embeddings (thesis C.5 and the released inr2vec code).

- Classifier: Linear+BatchNorm+ReLU+Dropout stages (1024-512-256), then the class layer.
- SegmentationDecoder: the implicit decoder fed with [embedding, one-hot class] and a query
  point, predicting part logits per point.
- TransferNet: Linear layers of the embedding width with BatchNorm+ReLU between them (8 in all).
- LatentGenerator / LatentDiscriminator: the latent-GAN of Achlioptas et al. with the
  generator noise -> 128 -> embedding (ReLU out) and the critic embedding -> 256 -> 512 -> 1.
- gradient_penalty: WGAN-GP's (||grad_x D(x_hat)||_2 - 1)^2 at random interpolates.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inrzoo.zoo.inr2vec.config import DecoderConfig
from inrzoo.zoo.inr2vec.decoder import ImplicitDecoder


class Classifier(nn.Module):
    def __init__(self, layers_dim: list[int], num_classes: int, dropout: float = 0.5) -> None:
        super().__init__()
        if not layers_dim:
            raise ValueError("classifier layers_dim must start with the embedding size")
        stages: list[nn.Module] = []
        for a, b in zip(layers_dim[:-1], layers_dim[1:]):
            stages += [nn.Linear(a, b), nn.BatchNorm1d(b), nn.ReLU(), nn.Dropout(dropout)]
        stages.append(nn.Linear(layers_dim[-1], num_classes))
        self.net = nn.Sequential(*stages)
        self.num_classes = num_classes

    def forward(self, embeddings: Tensor) -> Tensor:
        return self.net(embeddings)


class SegmentationDecoder(nn.Module):
    """(embeddings [B, E], class ids [B], points [B, N, 3]) -> part logits [B, N, num_parts]."""

    def __init__(self, embedding_dim: int, num_classes: int, num_parts: int, config: DecoderConfig | None = None) -> None:
        super().__init__()
        self.decoder = ImplicitDecoder(embedding_dim + num_classes, config, out_dim=num_parts)
        self.num_classes = num_classes
        self.num_parts = num_parts

    def forward(self, embeddings: Tensor, class_ids: Tensor, points: Tensor) -> Tensor:
        one_hot = F.one_hot(class_ids.long(), self.num_classes).to(embeddings.dtype)
        out = self.decoder(torch.cat([embeddings, one_hot], dim=1), points)
        return out.unsqueeze(-1) if self.num_parts == 1 else out


class TransferNet(nn.Module):
    def __init__(self, embedding_dim: int, num_layers: int = 8) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"transfer num_layers must be at least 1, got {num_layers}")
        stages: list[nn.Module] = []
        for i in range(num_layers):
            stages.append(nn.Linear(embedding_dim, embedding_dim))
            if i < num_layers - 1:
                stages += [nn.BatchNorm1d(embedding_dim), nn.ReLU()]
        self.net = nn.Sequential(*stages)

    def forward(self, embeddings: Tensor) -> Tensor:
        return self.net(embeddings)


def _mlp(dims: list[int]) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(dims) - 2:
            layers.append(nn.ReLU())
    return layers


class LatentGenerator(nn.Module):
    """noise [B, noise_dim] -> embeddings [B, embedding_dim]; ReLU on the output as in l-GAN."""

    def __init__(self, noise_dim: int, hidden_dims: list[int], embedding_dim: int, relu_output: bool = True) -> None:
        super().__init__()
        layers = _mlp([noise_dim, *hidden_dims, embedding_dim])
        if relu_output:
            layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)
        self.noise_dim = noise_dim

    def forward(self, noise: Tensor) -> Tensor:
        return self.net(noise)


class LatentDiscriminator(nn.Module):
    """embeddings [B, E] -> critic logits [B] (no sigmoid: WGAN critic)."""

    def __init__(self, embedding_dim: int, hidden_dims: list[int]) -> None:
        super().__init__()
        self.net = nn.Sequential(*_mlp([embedding_dim, *hidden_dims, 1]))

    def forward(self, embeddings: Tensor) -> Tensor:
        return self.net(embeddings).squeeze(-1)


def gradient_penalty(critic: nn.Module, real: Tensor, fake: Tensor, alpha: Tensor | None = None,
                     generator: torch.Generator | None = None) -> Tensor:
    """Gulrajani et al.: mean over the batch of (||d critic / d x_hat||_2 - 1)^2 with
    x_hat = real + alpha (fake - real), alpha ~ U(0, 1) per sample. Differentiable w.r.t. the
    critic parameters (create_graph) so it can be added to the critic loss."""
    if alpha is None:
        alpha = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), generator=generator,
                           device=real.device, dtype=real.dtype)
    interpolates = (real + alpha * (fake - real)).detach().requires_grad_(True)
    scores = critic(interpolates)
    (grads,) = torch.autograd.grad(scores.sum(), interpolates, create_graph=True)
    slopes = grads.flatten(1).norm(dim=1)
    return ((slopes - 1.0) ** 2).mean()
