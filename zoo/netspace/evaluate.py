"""Measuring a NetSpace: decoded networks against their targets, paths in embedding space and in
weight space, ClassId accuracy, and networks sampled from the space."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from inrzoo.classifiers import ImageSplit, accuracy
from inrzoo.zoo.netspace.data import NetZooData
from inrzoo.zoo.netspace.model import NetSpace, decoded_arch_ids, run_decoded


@dataclass
class Networks:
    """The networks of one split in memory: flat parameter rows, ClassIds, ids, recorded metrics."""

    flat: Tensor  # [N, P_max]
    arch_ids: Tensor  # [N]
    ids: list[str]
    metrics: list[dict[str, float]]

    def __len__(self) -> int:
        return int(self.arch_ids.shape[0])

    def of_arch(self, arch: int) -> list[int]:
        return torch.nonzero(self.arch_ids == arch).flatten().tolist()


def split_networks(data: NetZooData, split: str) -> Networks:
    view = data.views[split]
    flat, ids = data.flat_rows(view)
    return Networks(flat, ids, [str(i) for i in view.columns["id"][view.rows]], data.metrics_of(view))


def network_accuracy(prep: Tensor, arch: int, archs: list, split: ImageSplit) -> float:
    """Accuracy of the network a PRep [.., H, W] holds, read as architecture `arch`."""
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
def decode_networks(model: NetSpace, nets: Networks, split: ImageSplit, batch: int = 8) -> list[DecodedNetwork]:
    """Encode and decode every network; accuracies of input and decoded network on `split`."""
    model.eval()
    out = []
    for start in range(0, len(nets), batch):
        preps = model.preps(nets.flat[start:start + batch])
        _, decoded, logits = model(preps)
        used = decoded_arch_ids(logits, preps.shape[0], preps.device)
        for k in range(preps.shape[0]):
            arch = int(nets.arch_ids[start + k])
            out.append(DecodedNetwork(nets.ids[start + k], arch, int(used[k]),
                                      network_accuracy(preps[k], arch, model.archs, split),
                                      network_accuracy(decoded[k], int(used[k]), model.archs, split)))
    return out


@dataclass
class PathPoint:
    gamma: float
    arch: int
    accuracy: float


def gammas(steps: int) -> Tensor:
    if steps < 2:
        raise ValueError(f"an interpolation path needs at least 2 points, got {steps}")
    return torch.linspace(0, 1, steps)


@torch.no_grad()
def embedding_path(model: NetSpace, emb_a: Tensor, emb_b: Tensor, split: ImageSplit, steps: int = 11) -> list[PathPoint]:
    """Decoded networks at (1 - g) e_a + g e_b for g evenly spaced in [0, 1]."""
    g = gammas(steps).to(emb_a.device)
    decoded, logits = model.decode((1 - g[:, None]) * emb_a[None] + g[:, None] * emb_b[None])
    used = decoded_arch_ids(logits, steps, decoded.device)
    return [PathPoint(float(t), int(a), network_accuracy(p, int(a), model.archs, split)) for t, a, p in zip(g, used, decoded)]


@torch.no_grad()
def weight_path(model: NetSpace, flat_a: Tensor, flat_b: Tensor, arch: int, split: ImageSplit,
                steps: int = 11) -> list[PathPoint]:
    """Networks at (1 - g) w_a + g w_b: direct interpolation of the parameters (one architecture)."""
    return [PathPoint(float(t), arch, network_accuracy(model.preps(((1 - t) * flat_a + t * flat_b)[None]), arch,
                                                        model.archs, split)) for t in gammas(steps)]


@torch.no_grad()
def sample_embeddings(train_embeddings: Tensor, n: int, seed: int = 0) -> Tensor:
    """Embeddings drawn from a Gaussian with the training embeddings' mean and per-dimension deviation
    (chosen: the thesis explores the space by interpolation and optimization; this draws new points)."""
    gen = torch.Generator().manual_seed(seed)
    mean, std = train_embeddings.mean(0), train_embeddings.std(0)
    return mean + std * torch.randn(n, train_embeddings.shape[1], generator=gen).to(train_embeddings.device)


@torch.no_grad()
def embed(model: NetSpace, flat: Tensor, batch: int = 16) -> Tensor:
    model.eval()
    return torch.cat([model.encode(model.preps(flat[i:i + batch])) for i in range(0, len(flat), batch)])
