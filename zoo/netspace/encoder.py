"""NetSpace's encoder: a PRep [B, 1, H, W] -> an embedding [B, E] of fixed size for any H, W.

Two horizontal convolutions (1x3, stride (1, 2)) read along the rows of parameters, a max over
the width collapses each row, two vertical convolutions (3x1) mix neighbouring rows, and a max
over the height leaves one value per channel: the last convolution's E channels are the
embedding. Leaky ReLU after every convolution, as in the thesis code.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from inrzoo.zoo.netspace.config import EncoderConfig


class Encoder(nn.Module):
    def __init__(self, config: EncoderConfig | None = None):
        super().__init__()
        self.config = config = config or EncoderConfig()
        if len(config.channels) != 3 or min(config.channels) < 1 or config.embedding_size < 1:
            raise ValueError(f"EncoderConfig: needs 3 positive channels and a positive embedding_size, got "
                             f"{config.channels}, {config.embedding_size}")
        c1, c2, c3 = config.channels
        self.horizontal1 = nn.Conv2d(1, c1, (1, 3), stride=(1, 2), padding=(0, 1))
        self.horizontal2 = nn.Conv2d(c1, c2, (1, 3), stride=(1, 2), padding=(0, 1))
        self.vertical1 = nn.Conv2d(c2, c3, (3, 1), padding=(1, 0))
        self.vertical2 = nn.Conv2d(c3, config.embedding_size, (3, 1), padding=(1, 0))

    @property
    def embedding_size(self) -> int:
        return self.config.embedding_size

    def forward(self, prep: torch.Tensor) -> torch.Tensor:
        if prep.dim() == 3:
            prep = prep.unsqueeze(1)
        if prep.dim() != 4 or prep.shape[1] != 1:
            raise ValueError(f"Encoder: expected PReps [B, 1, H, W] or [B, H, W], got {tuple(prep.shape)}")
        slope = self.config.negative_slope
        x = F.leaky_relu(self.horizontal1(prep), slope)
        x = F.leaky_relu(self.horizontal2(x), slope)
        x = x.amax(dim=3, keepdim=True)
        x = F.leaky_relu(self.vertical1(x), slope)
        x = F.leaky_relu(self.vertical2(x), slope)
        return x.amax(dim=(2, 3))
