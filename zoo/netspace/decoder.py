"""NetSpace's decoder (embedding -> PRep) and ClassId head (embedding -> architecture logits).

The embedding E is viewed as a map [c0, s, s] (c0 = E / s^2; thesis: 1 x 64 x 64). Four 3x3
convolutions alternate with reshapes that trade depth for space (a reshape reinterprets the
same values, as `view` does in the thesis code):

    conv1 (stride 2): c0 -> H * r             [H*r, s/2, s/2]   reshape -> [c1, H, X]
    conv2 (stride 2): c1 -> c2 * W / (2 X)    [.., H/2, X/2]    reshape -> [c2, H/2, W/4]
    conv3 (stride 2): c2 -> c3                [c3, H/4, W/8]
    conv4           : c3 -> 32                [32, H/4, W/8]    reshape -> [1, H, W]

with X = r (s/2)^2 / c1. Thesis: r = 256, c1 = 128, c2 = 512, c3 = 256, so X = 2048 and conv2
has W/8 channels. This is why a PRep's height is a multiple of 4 and its width of 8. A learned
per-element scale and bias at the PRep resolution follows (scale ~ N(0, 1e-3^2), bias ~
U(0, 1e-2) at start, so the first decoded networks have small parameters). Leaky ReLU after
conv1-3, none after conv4.

ClassId head: one stride-2 3x3 convolution (leaky ReLU) over the same [c0, s, s] map and one
fully connected layer to the number of architectures.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from inrzoo.inr import check_prep_shape
from inrzoo.zoo.netspace.config import ClassIdConfig, DecoderConfig

FINAL_CHANNELS = 32  # [32, H/4, W/8] reshaped to [1, H, W]


def seed_channels(embedding_size: int, side: int) -> int:
    """c0 of the embedding map [c0, side, side]; E must be a multiple of side^2 and side even."""
    if side < 2 or side % 2 or embedding_size % (side * side):
        raise ValueError(f"NetSpace decoder: embedding size {embedding_size} must be a positive multiple of "
                         f"seed_side^2 = {side * side}, with seed_side even (thesis: 4096 = 64 x 64)")
    return embedding_size // (side * side)


class Decoder(nn.Module):
    def __init__(self, embedding_size: int, prep_shape: tuple[int, int], config: DecoderConfig | None = None):
        super().__init__()
        self.config = config = config or DecoderConfig()
        self.height, self.width = check_prep_shape(prep_shape, what="NetSpace decoder PRep")
        self.c0 = seed_channels(embedding_size, config.seed_side)
        if len(config.stage_channels) != 3 or min(config.stage_channels) < 1 or config.row_channels < 1:
            raise ValueError(f"DecoderConfig: needs positive row_channels and 3 stage_channels, got "
                             f"{config.row_channels}, {config.stage_channels}")
        c1, c2, c3 = config.stage_channels
        half = config.seed_side // 2
        row_values = config.row_channels * half * half
        if row_values % c1 or (row_values // c1) % 2:
            raise ValueError(f"DecoderConfig: row_channels x (seed_side/2)^2 = {row_values} must be an even "
                             f"multiple of stage_channels[0] = {c1}")
        self.span = row_values // c1  # X: width of the first reshape
        conv2_out = c2 * self.width // (2 * self.span)
        if conv2_out < 1 or conv2_out * 2 * self.span != c2 * self.width:
            raise ValueError(f"DecoderConfig: stage_channels[1] x PRep width = {c2} x {self.width} must be a multiple "
                             f"of 2 X = {2 * self.span} (X = row_channels (seed_side/2)^2 / stage_channels[0])")
        self.conv1 = nn.Conv2d(self.c0, self.height * config.row_channels, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(c1, conv2_out, 3, stride=2, padding=1)
        self.conv3 = nn.Conv2d(c2, c3, 3, stride=2, padding=1)
        self.conv4 = nn.Conv2d(c3, FINAL_CHANNELS, 3, padding=1)
        self.scale = nn.Parameter(torch.randn(self.height, self.width) * config.scale_init)
        self.bias = nn.Parameter(torch.rand(self.height, self.width) * config.bias_init)

    def seed_map(self, embedding: torch.Tensor) -> torch.Tensor:
        side = self.config.seed_side
        return embedding.reshape(embedding.shape[0], self.c0, side, side)

    def forward(self, embedding: torch.Tensor) -> torch.Tensor:
        """Embeddings [B, E] -> PReps [B, 1, H, W]."""
        b, (c1, c2, _), slope = embedding.shape[0], self.config.stage_channels, self.config.negative_slope
        x = F.leaky_relu(self.conv1(self.seed_map(embedding)), slope)
        x = x.reshape(b, c1, self.height, self.span)
        x = F.leaky_relu(self.conv2(x), slope)
        x = x.reshape(b, c2, self.height // 2, self.width // 4)
        x = F.leaky_relu(self.conv3(x), slope)
        x = self.conv4(x).reshape(b, 1, self.height, self.width)
        return x * self.scale + self.bias


class ClassIdHead(nn.Module):
    def __init__(self, embedding_size: int, seed_side: int, num_archs: int, config: ClassIdConfig | None = None,
                 negative_slope: float = 0.01):
        super().__init__()
        config = config or ClassIdConfig()
        self.side, self.slope = seed_side, negative_slope
        self.c0 = seed_channels(embedding_size, seed_side)
        self.conv = nn.Conv2d(self.c0, config.channels, 3, stride=2, padding=1)
        self.fc = nn.Linear(config.channels * (seed_side // 2) ** 2, num_archs)

    def forward(self, embedding: torch.Tensor) -> torch.Tensor:
        """Embeddings [B, E] -> architecture logits [B, num_archs]."""
        x = embedding.reshape(embedding.shape[0], self.c0, self.side, self.side)
        x = F.leaky_relu(self.conv(x), self.slope)
        return self.fc(torch.flatten(x, 1))
