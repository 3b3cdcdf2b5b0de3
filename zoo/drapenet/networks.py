"""DrapeNet's garment encoder and UDF decoder (thesis app. A; shapes as in liren2515/DrapeNet).

Encoder (DGCNN, Wang et al.): the K nearest neighbours of every input point are found once, in
xyz, and reused by all 4 EdgeConvs. An EdgeConv maps each edge (i, j) to [f_j - f_i, f_i],
applies a shared Linear (no bias), batch norm and LeakyReLU(0.2), and takes the max over the K
edges. The 4 outputs (64 + 64 + 128 + 256 = 512 channels) are concatenated, mapped to the latent
size by a Linear (no bias) + batch norm + LeakyReLU, and max-pooled over the points.

Decoder: NeRF positional encoding of the query (63 values) -> 512 -> 5 residual blocks, each
[CBN, ReLU, Linear, CBN, ReLU, Linear] plus the identity -> CBN, ReLU -> 1 logit. A conditional
batch norm (CBN) normalizes without its own affine terms and scales and shifts by gamma(z) and
beta(z), linear maps of the latent code initialised to 1 and 0; the weights of the last Linear of every
block start at zero, so every block starts as the identity plus a bias (as in the released code). The UDF is sigmoid(logit) * delta.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from inrzoo.zoo.components.implicit_decoder import PositionalEncoding
from inrzoo.zoo.drapenet.config import DecoderConfig, EncoderConfig


def knn_indices(points: Tensor, k: int, chunk: int = 2048) -> Tensor:
    """Indices [B, N, k] of each point's k nearest points (itself first) by Euclidean distance.

    Rows of the distance matrix are computed `chunk` points at a time, so memory stays
    O(B * chunk * N) rather than O(B * N^2) (10,000 points would need 400 MB per cloud).
    """
    if points.shape[1] < k:
        raise ValueError(f"kNN needs at least k={k} points per cloud, got {points.shape[1]}")
    with torch.no_grad():
        parts = [torch.cdist(points[:, start:start + chunk], points).topk(k, dim=-1, largest=False).indices
                 for start in range(0, points.shape[1], chunk)]
    return torch.cat(parts, dim=1)


def gather_neighbours(features: Tensor, indices: Tensor) -> Tensor:
    """features [B, N, C], indices [B, N, K] -> the neighbours' features [B, N, K, C]."""
    batch = torch.arange(features.shape[0], device=features.device)[:, None, None]
    return features[batch, indices]


class EdgeConv(nn.Module):
    """max_j LeakyReLU(BN(W [f_j - f_i, f_i])) over the K neighbours j of each point i."""

    def __init__(self, in_channels: int, out_channels: int, negative_slope: float) -> None:
        super().__init__()
        self.linear = nn.Linear(2 * in_channels, out_channels, bias=False)
        self.norm = nn.BatchNorm1d(out_channels)
        self.act = nn.LeakyReLU(negative_slope)

    def forward(self, features: Tensor, indices: Tensor) -> Tensor:
        neighbours = gather_neighbours(features, indices)
        centre = features.unsqueeze(2).expand_as(neighbours)
        edges = self.linear(torch.cat([neighbours - centre, centre], dim=-1))  # [B, N, K, C]
        b, n, k, c = edges.shape
        edges = self.act(self.norm(edges.reshape(b, n * k, c).transpose(1, 2))).transpose(1, 2)
        return edges.reshape(b, n, k, c).max(dim=2).values


class DgcnnEncoder(nn.Module):
    """Point clouds [B, N, 3] -> latent codes [B, latent_dim]."""

    def __init__(self, latent_dim: int, config: EncoderConfig | None = None) -> None:
        super().__init__()
        config = config or EncoderConfig()
        widths = [3, *config.channels]
        self.convs = nn.ModuleList(EdgeConv(widths[i], widths[i + 1], config.negative_slope) for i in range(4))
        self.project = nn.Linear(sum(config.channels), latent_dim, bias=False)
        self.norm = nn.BatchNorm1d(latent_dim)
        self.act = nn.LeakyReLU(config.negative_slope)
        self.k = config.neighbours

    def forward(self, points: Tensor) -> Tensor:
        if points.dim() != 3 or points.shape[-1] != 3:
            raise ValueError(f"encoder expects point clouds [B, N, 3], got {tuple(points.shape)}")
        indices = knn_indices(points, self.k)
        features, outputs = points, []
        for conv in self.convs:
            features = conv(features, indices)
            outputs.append(features)
        joined = self.project(torch.cat(outputs, dim=-1))  # [B, N, latent]
        joined = self.act(self.norm(joined.transpose(1, 2)))  # [B, latent, N]
        return joined.max(dim=-1).values


class ConditionalBatchNorm(nn.Module):
    """BN without affine terms, then gamma(z) * x + beta(z); gamma starts at 1, beta at 0."""

    def __init__(self, latent_dim: int, channels: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm1d(channels, affine=False)
        self.gamma = nn.Linear(latent_dim, channels)
        self.beta = nn.Linear(latent_dim, channels)
        nn.init.zeros_(self.gamma.weight)
        nn.init.ones_(self.gamma.bias)
        nn.init.zeros_(self.beta.weight)
        nn.init.zeros_(self.beta.bias)

    def forward(self, x: Tensor, code: Tensor) -> Tensor:
        """x [B, C, N] (channels first), code [B, latent]."""
        return self.gamma(code).unsqueeze(-1) * self.norm(x) + self.beta(code).unsqueeze(-1)


class CbnBlock(nn.Module):
    def __init__(self, latent_dim: int, width: int) -> None:
        super().__init__()
        self.norm0 = ConditionalBatchNorm(latent_dim, width)
        self.norm1 = ConditionalBatchNorm(latent_dim, width)
        self.fc0 = nn.Conv1d(width, width, 1)
        self.fc1 = nn.Conv1d(width, width, 1)
        nn.init.zeros_(self.fc1.weight)
        self.act = nn.ReLU()

    def forward(self, x: Tensor, code: Tensor) -> Tensor:
        hidden = self.fc0(self.act(self.norm0(x, code)))
        return x + self.fc1(self.act(self.norm1(hidden, code)))


class CbnDecoder(nn.Module):
    """(codes [B, latent], queries [B, N, 3]) -> logits [B, N]; the UDF is sigmoid(logit) * delta."""

    def __init__(self, latent_dim: int, config: DecoderConfig | None = None) -> None:
        super().__init__()
        config = config or DecoderConfig()
        self.encoding = PositionalEncoding(3, config.num_frequencies, config.max_frequency_log2)
        self.input = nn.Conv1d(self.encoding.out_dim, config.hidden_dim, 1)
        self.blocks = nn.ModuleList(CbnBlock(latent_dim, config.hidden_dim) for _ in range(config.blocks))
        self.norm = ConditionalBatchNorm(latent_dim, config.hidden_dim)
        self.output = nn.Conv1d(config.hidden_dim, 1, 1)
        self.act = nn.ReLU()
        self.latent_dim = latent_dim

    def forward(self, codes: Tensor, queries: Tensor) -> Tensor:
        if codes.dim() != 2 or codes.shape[-1] != self.latent_dim:
            raise ValueError(f"decoder expects codes [B, {self.latent_dim}], got {tuple(codes.shape)}")
        if queries.dim() != 3 or queries.shape[0] != codes.shape[0] or queries.shape[-1] != 3:
            raise ValueError(f"decoder expects queries [B={codes.shape[0]}, N, 3], got {tuple(queries.shape)}")
        x = self.input(self.encoding(queries).transpose(1, 2))
        for block in self.blocks:
            x = block(x, codes)
        return self.output(self.act(self.norm(x, codes))).squeeze(1)
