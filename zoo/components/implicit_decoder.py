"""The implicit decoder of inr2vec (thesis C.3), shared by the zoo: f(code, positional_encoding(query)).

Positional encoding (NeRF style, as in inr2vec): the query itself followed by sin and cos of
the query at frequencies 2^0 ... 2^9 (log-spaced), 3 + 3*2*10 = 63 values for a 3D point.
The decoder concatenates the embedding with the encoded query, maps it to the hidden width,
runs `layers_before_skip` hidden layers, adds a ReLU projection of the same input (the skip of
thesis C.3), runs `layers_after_skip` hidden layers and a last Linear to the outputs. ReLU
everywhere. The segmentation decoder is the same network with a wider code and more outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@dataclass
class DecoderConfig:
    hidden_dim: int = 512
    layers_before_skip: int = 2
    layers_after_skip: int = 2
    num_frequencies: int = 10  # 3 + 3*2*10 = 63 encoded values for a 3D query
    max_frequency_log2: int = 9


class PositionalEncoding(nn.Module):
    """x -> [x, sin(f_0 x), cos(f_0 x), ..., sin(f_{n-1} x), cos(f_{n-1} x)], f_i = 2^(i*m/(n-1))."""

    def __init__(self, in_dim: int = 3, num_frequencies: int = 10, max_frequency_log2: int = 9) -> None:
        super().__init__()
        frequencies = 2.0 ** torch.linspace(0.0, float(max_frequency_log2), steps=num_frequencies)
        self.register_buffer("frequencies", frequencies, persistent=False)
        self.in_dim = in_dim
        self.out_dim = in_dim * (1 + 2 * num_frequencies)

    def forward(self, x: Tensor) -> Tensor:
        scaled = x.unsqueeze(-2) * self.frequencies.to(x.dtype).unsqueeze(-1)  # [..., F, D]
        # Interleave per frequency: sin(f x) then cos(f x), each D values.
        periodic = torch.stack([torch.sin(scaled), torch.cos(scaled)], dim=-2)  # [..., F, 2, D]
        return torch.cat([x, periodic.flatten(-3)], dim=-1)


def _dense(in_dim: int, out_dim: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(in_dim, out_dim), nn.ReLU())


class ImplicitDecoder(nn.Module):
    """(code [B, C], queries [B, N, 3]) -> [B, N] (out_dim 1) or [B, N, out_dim]."""

    def __init__(self, code_dim: int, config: DecoderConfig | None = None, out_dim: int = 1, in_dim: int = 3) -> None:
        super().__init__()
        config = config or DecoderConfig()
        self.encoding = PositionalEncoding(in_dim, config.num_frequencies, config.max_frequency_log2)
        joint = code_dim + self.encoding.out_dim
        hidden = config.hidden_dim
        self.input_layer = _dense(joint, hidden)
        self.before_skip = nn.Sequential(*[_dense(hidden, hidden) for _ in range(config.layers_before_skip)])
        self.skip = _dense(joint, hidden)
        self.after_skip = nn.Sequential(*[_dense(hidden, hidden) for _ in range(config.layers_after_skip)])
        self.output_layer = nn.Linear(hidden, out_dim)
        self.code_dim = code_dim
        self.out_dim = out_dim

    def forward(self, code: Tensor, queries: Tensor) -> Tensor:
        if code.dim() != 2 or code.shape[-1] != self.code_dim:
            raise ValueError(f"decoder expects codes [B, {self.code_dim}], got {tuple(code.shape)}")
        if queries.dim() != 3 or queries.shape[0] != code.shape[0]:
            raise ValueError(f"decoder expects queries [B={code.shape[0]}, N, 3], got {tuple(queries.shape)}")
        encoded = self.encoding(queries)
        hidden = self.before_skip(self._joint(self.input_layer, code, encoded)) + self._joint(self.skip, code, encoded)
        out = self.output_layer(self.after_skip(hidden))
        return out.squeeze(-1) if self.out_dim == 1 else out

    def _joint(self, stage: nn.Sequential, code: Tensor, encoded: Tensor) -> Tensor:
        """stage(cat([code repeated per query, encoded query])) with the code's share of the Linear
        computed once per code instead of once per query (the same function, ~3x fewer products)."""
        linear, activation = stage
        per_code = F.linear(code, linear.weight[:, : self.code_dim], linear.bias)  # [B, hidden]
        return activation(F.linear(encoded, linear.weight[:, self.code_dim :]) + per_code.unsqueeze(1))
