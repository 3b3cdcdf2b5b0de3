"""Measuring a classifier space: decoded networks against their targets, interpolation paths
in embedding space and in weight space, ClassId accuracy, and sampling from the space."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from inrzoo.classifiers import ImageSplit, accuracy
from inrzoo.zoo.netspace.data import ZooNetworks
from inrzoo.zoo.netspace.model import NetSpace, decoded_arch_ids, run_decoded


def network_accuracy(prep: torch.Tensor, arch: int, archs: list, split: ImageSplit) -> float:
    """Accuracy of the network a PRep [1, H, W] holds, read as architecture `arch`."""
    prep = prep.reshape(1, 1, *prep.shape[-2:])
    ids = torch.tensor([arch], device=prep.device)
    return accuracy(lambda x: run_decoded(prep, ids, archs, x)[0], split)


@dataclass
class DecodedNetwork:
    id: str
    arch: int  # true architecture
    decoded_arch: int  # the ClassId head's choice (= arch for one architecture)
    target_accuracy: float
    decoded_accuracy: float


@torch.no_grad()
def decode_zoo(model: NetSpace, zoo: ZooNetworks, split: ImageSplit, batch: int = 8) -> list[DecodedNetwork]:
    """Encode and decode every network of the zoo; accuracies of input and decoded network on `split`."""
    model.eval()
    out = []
    for start in range(0, len(zoo), batch):
        preps, ids = zoo.preps[start:start + batch], zoo.arch_ids[start:start + batch]
        _, decoded, logits = model(preps)
        used = decoded_arch_ids(logits, preps.shape[0], preps.device)
        for k in range(preps.shape[0]):
            out.append(DecodedNetwork(
                id=zoo.ids[start + k], arch=int(ids[k]), decoded_arch=int(used[k]),
                target_accuracy=network_accuracy(preps[k], int(ids[k]), zoo.archs, split),
                decoded_accuracy=network_accuracy(decoded[k], int(used[k]), zoo.archs, split)))
    return out


@dataclass
class PathPoint:
    gamma: float
    arch: int
    accuracy: float


@torch.no_grad()
def embedding_path(model: NetSpace, emb_a: torch.Tensor, emb_b: torch.Tensor, archs: list, split: ImageSplit,
                   steps: int = 11) -> list[PathPoint]:
    """Decoded networks at (1 - g) e_a + g e_b for g evenly spaced in [0, 1]."""
    gammas = torch.linspace(0, 1, steps)
    embeddings = (1 - gammas[:, None]) * emb_a[None] + gammas[:, None] * emb_b[None]
    decoded, logits = model.decode(embeddings)
    used = decoded_arch_ids(logits, steps, decoded.device)
    return [PathPoint(float(g), int(a), network_accuracy(p, int(a), archs, split))
            for g, a, p in zip(gammas, used, decoded)]


@torch.no_grad()
def weight_path(prep_a: torch.Tensor, prep_b: torch.Tensor, arch: int, archs: list, split: ImageSplit,
                steps: int = 11) -> list[PathPoint]:
    """Networks at (1 - g) w_a + g w_b: direct interpolation of the parameters (same architecture)."""
    gammas = torch.linspace(0, 1, steps)
    return [PathPoint(float(g), arch, network_accuracy((1 - g) * prep_a + g * prep_b, arch, archs, split))
            for g in gammas]


@torch.no_grad()
def sample_embeddings(train_embeddings: torch.Tensor, n: int, seed: int = 0) -> torch.Tensor:
    """Embeddings drawn from a Gaussian fitted to training embeddings (diagonal covariance, chosen:
    the thesis samples by interpolation and optimization; this draws new points of the space)."""
    gen = torch.Generator().manual_seed(seed)
    mean, std = train_embeddings.mean(0), train_embeddings.std(0)
    return mean + std * torch.randn(n, train_embeddings.shape[1], generator=gen).to(train_embeddings.device)
