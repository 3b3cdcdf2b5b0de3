"""Neural functionals (Zhou et al. 2023, "Permutation Equivariant Neural Functionals", NFN):
networks that read the weights of an MLP and are equivariant (or invariant) to permutations
of its hidden neurons, the symmetry that leaves the MLP's function unchanged.

Weight-space features of a batch of L-layer MLPs are, per layer i, W_i [B, C, n_i, n_{i-1}]
(row j = output neuron j of layer i, column k = its input neuron k) and b_i [B, C, n_i], with
C channels (1 for raw weights). Permuting the hidden neurons of layer i by P_i maps
W_i -> P_i W_i P_{i-1}^T and b_i -> P_i b_i (P_0 and P_L, input and output, stay identity).

- `NPLinear`: the NP-equivariant linear layer of the paper (equivariant to permutations of all
  neurons, hence of the hidden ones): for W_i[j, k] a channel mixing of W_i[j, k] itself, of
  the means W_i[*, k], W_{i-1}[k, *], b_{i-1}[k] (depend on k), W_i[j, *], b_i[j], W_{i+1}[*, j]
  (depend on j), and of every layer's mean W_s[*, *] and b_s[*]; for b_i[j] the terms that
  depend on j plus the global means.
- `IOEncoding`: NFN's sinusoidal encoding of the input and output neuron positions added as
  channels (input columns of W_0, output rows of W_{L-1} and b_{L-1}), which breaks the
  input/output symmetry that NP layers assume but MLPs do not have.
- `HNPPool`: invariant pooling (means over hidden neurons; the input and output positions kept).
- `InvariantNFN`: pointwise input encoding, IO encoding, NPLinear+ReLU stages, HNPPool, MLP head
  (the structure of the paper's classifier: NFN_NP with IO encoding).
Implemented from the paper; the released code (AllanYangZhou/nfn) was read to settle the
encoding's frequencies (max 10, 6 bands, input and output indices at linspace(-1, 1)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import torch
from torch import Tensor, nn

from inrzoo.zoo.inr2vec.encoder import linear_layers

Features = tuple[list[Tensor], list[Tensor]]  # (weights [B, C, n_i, n_{i-1}], biases [B, C, n_i])


def features_from_params(params: Mapping[str, Tensor], param_shapes: Mapping[str, Sequence[int]],
                         in_dim: int | None = None) -> Features:
    """Stacked INR parameters (leading K axis) -> one-channel features, weights in [out, in] form."""
    weights, biases = [], []
    for layer in linear_layers(param_shapes, in_dim):
        w = _widen(params[layer.weight])
        w = w if layer.out_in else w.transpose(-1, -2)
        b = _widen(params[layer.bias]) if layer.bias is not None else w.new_zeros(w.shape[0], layer.out_features)
        weights.append(w.unsqueeze(1))
        biases.append(b.unsqueeze(1))
    return weights, biases


class LayerStandardizer:
    """Per layer, one mean and one deviation for its weights and one pair for its bias (from the
    training INRs): a scalar affine map per tensor, so every permutation symmetry is kept.
    chosen: the paper leaves input scaling open; SIREN layers differ in scale by orders of magnitude.
    `stats` [L, 4] holds (weight mean, weight deviation, bias mean, bias deviation) per layer."""

    def __init__(self, features: Features | None = None, stats: Tensor | None = None) -> None:
        if stats is None:
            if features is None:
                raise ValueError("LayerStandardizer needs training features or stats")
            weights, biases = features
            stats = torch.stack([torch.stack([w.mean(), w.std().clamp_min(1e-8), b.mean(), b.std().clamp_min(1e-8)])
                                 for w, b in zip(weights, biases)])
        self.stats = stats

    def __call__(self, features: Features) -> Features:
        weights, biases = features
        stats = self.stats.to(weights[0].dtype)
        return ([(w - s[0]) / s[1] for w, s in zip(weights, stats)],
                [(b - s[2]) / s[3] for b, s in zip(biases, stats)])


def _widen(t: Tensor) -> Tensor:
    """Stored half-precision weights computed in float32; float32/float64 kept as they are."""
    return t.float() if t.dtype in (torch.float16, torch.bfloat16) else t


def layer_sizes(param_shapes: Mapping[str, Sequence[int]], in_dim: int | None = None) -> list[int]:
    """[n_0 (inputs), n_1, ..., n_L (outputs)] of an MLP from its parameter shapes."""
    dense = linear_layers(param_shapes, in_dim)
    return [dense[0].in_features] + [layer.out_features for layer in dense]


class NPLinear(nn.Module):
    """The NP-equivariant linear map between weight-space features with c_in and c_out channels."""

    def __init__(self, num_layers: int, c_in: int, c_out: int) -> None:
        super().__init__()
        self.num_layers, self.c_in, self.c_out = num_layers, c_in, c_out
        global_in = 2 * num_layers * c_in
        self.pointwise = nn.ModuleList(nn.Conv2d(c_in, c_out, 1) for _ in range(num_layers))
        self.weight_global = nn.ModuleList(nn.Linear(global_in, c_out) for _ in range(num_layers))
        self.bias_global = nn.ModuleList(nn.Linear(global_in, c_out) for _ in range(num_layers))
        # Terms constant along the rows (they depend on the column k) and along the columns (on j).
        self.by_column = nn.ModuleList(nn.Conv1d(c_in * (1 if i == 0 else 3), c_out, 1, bias=False)
                                       for i in range(num_layers))
        self.by_row = nn.ModuleList(nn.Conv1d(c_in * (2 if i == num_layers - 1 else 3), c_out, 1, bias=False)
                                    for i in range(num_layers))
        self.bias_by_row = nn.ModuleList(nn.Conv1d(c_in * (2 if i == num_layers - 1 else 3), c_out, 1)
                                         for i in range(num_layers))
        for modules in (self.pointwise, self.weight_global, self.bias_global, self.by_column, self.by_row,
                        self.bias_by_row):
            for module in modules:  # chosen: fan-in over the summed terms, so outputs keep unit scale
                nn.init.normal_(module.weight, std=1.0 / math.sqrt(4 * module.weight[0].numel()))

    def forward(self, features: Features) -> Features:
        weights, biases = features
        if len(weights) != self.num_layers:
            raise ValueError(f"NPLinear built for {self.num_layers} layers got {len(weights)}")
        column_means = [w.mean(dim=-2) for w in weights]  # [B, C, n_{i-1}]: mean over rows j
        row_means = [w.mean(dim=-1) for w in weights]  # [B, C, n_i]: mean over columns k
        pooled = torch.cat([w.mean(dim=(-2, -1)) for w in weights] + [b.mean(dim=-1) for b in biases], dim=-1)
        out_w, out_b = [], []
        for i, (w, b) in enumerate(zip(weights, biases)):
            along_k = [column_means[i]] + ([row_means[i - 1], biases[i - 1]] if i > 0 else [])
            along_j = [row_means[i], b] + ([column_means[i + 1]] if i < self.num_layers - 1 else [])
            along_j = torch.cat(along_j, dim=1)
            out_w.append(self.pointwise[i](w) + self.weight_global[i](pooled)[..., None, None]
                         + self.by_column[i](torch.cat(along_k, dim=1)).unsqueeze(-2)
                         + self.by_row[i](along_j).unsqueeze(-1))
            out_b.append(self.bias_by_row[i](along_j) + self.bias_global[i](pooled).unsqueeze(-1))
        return out_w, out_b


def fourier_positions(count: int, max_freq: float, bands: int, like: Tensor) -> Tensor:
    """[2 * bands + 1, count]: sin/cos of pi * s * x at scales s in linspace(1, max_freq / 2) and x."""
    x = torch.linspace(-1.0, 1.0, count, dtype=like.dtype, device=like.device).unsqueeze(-1)
    scaled = x * torch.linspace(1.0, max_freq / 2, bands, dtype=like.dtype, device=like.device) * math.pi
    return torch.cat([scaled.sin(), scaled.cos(), x], dim=-1).T


class IOEncoding(nn.Module):
    """Appends 2 * bands + 1 channels encoding input positions (W_0 columns) and output
    positions (W_{L-1} rows, b_{L-1}); zeros elsewhere. Hidden positions get no code."""

    def __init__(self, max_freq: float = 10.0, bands: int = 6) -> None:
        super().__init__()
        self.max_freq, self.bands = max_freq, bands
        self.channels = 2 * bands + 1

    def forward(self, features: Features) -> Features:
        weights, biases = features
        out_w, out_b = [], []
        last = len(weights) - 1
        for i, (w, b) in enumerate(zip(weights, biases)):
            batch, _, rows, cols = w.shape
            code_w = w.new_zeros(batch, self.channels, rows, cols)
            code_b = b.new_zeros(batch, self.channels, rows)
            if i == 0:
                code_w = code_w + fourier_positions(cols, self.max_freq, self.bands, w)[None, :, None, :]
            if i == last:
                outputs = fourier_positions(rows, self.max_freq, self.bands, w)
                code_w = code_w + outputs[None, :, :, None]
                code_b = code_b + outputs[None]
            out_w.append(torch.cat([w, code_w], dim=1))
            out_b.append(torch.cat([b, code_b], dim=1))
        return out_w, out_b


class HNPPool(nn.Module):
    """[B, features]: means over hidden neurons; first layer per input, last layer per output."""

    def forward(self, features: Features) -> Tensor:
        weights, biases = features
        last = len(weights) - 1
        parts = []
        for i, (w, b) in enumerate(zip(weights, biases)):
            if i == 0:
                parts.append(w.mean(dim=-2).flatten(1))
            elif i == last:
                parts.append(w.mean(dim=-1).flatten(1))
            else:
                parts.append(w.mean(dim=(-2, -1)))
            parts.append(b.flatten(1) if i == last else b.mean(dim=-1))
        return torch.cat(parts, dim=1)

    @staticmethod
    def size(sizes: Sequence[int], channels: int) -> int:
        layers = len(sizes) - 1
        return channels * (sizes[0] + (layers - 2) + 2 * sizes[-1] + (layers - 1))


def map_features(module: nn.Module, features: Features) -> Features:
    """The same module (a ReLU, a 1x1 conv) on every weight and bias tensor."""
    weights, biases = features
    return [module(w) for w in weights], [module(b.unsqueeze(-1)).squeeze(-1) for b in biases]


@dataclass
class NFNConfig:
    # chosen, after the paper's Manifold40 SIREN classifier (NP mode, hidden channels [16, 16],
    # pointwise input encoding to 8 channels, IO encoding), with a narrower head for this CPU
    input_channels: int = 8
    hidden_channels: list[int] = field(default_factory=lambda: [16, 16])
    head_dims: list[int] = field(default_factory=lambda: [256, 256])
    dropout: float = 0.5


class InvariantNFN(nn.Module):
    """Class logits of MLP INRs, invariant to permutations of their hidden neurons."""

    def __init__(self, sizes: Sequence[int], num_classes: int, config: NFNConfig | None = None) -> None:
        super().__init__()
        config = config or NFNConfig()
        self.sizes = list(sizes)
        layers = len(self.sizes) - 1
        self.input_encoding = nn.Conv2d(1, config.input_channels, 1)
        self.io = IOEncoding()
        channels = config.input_channels + self.io.channels
        self.stages = nn.ModuleList()
        for width in config.hidden_channels:
            self.stages.append(NPLinear(layers, channels, width))
            channels = width
        self.pool = HNPPool()
        head: list[nn.Module] = []
        width = HNPPool.size(self.sizes, channels)
        for dim in config.head_dims:
            head += [nn.Linear(width, dim), nn.ReLU(), nn.Dropout(config.dropout)]
            width = dim
        head.append(nn.Linear(width, num_classes))
        self.head = nn.Sequential(*head)

    def pooled(self, features: Features) -> Tensor:
        """The invariant vector the head reads: [B, HNPPool.size(sizes, last channels)]."""
        x = self.io(map_features(self.input_encoding, features))
        for stage in self.stages:
            x = map_features(nn.functional.relu, stage(x))
        return self.pool(x)

    def forward(self, features: Features) -> Tensor:
        return self.head(self.pooled(features))
