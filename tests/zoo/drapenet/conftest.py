"""Small DrapeNet configs for fast tests (the defaults are the thesis's sizes)."""

from __future__ import annotations

import pytest
import torch

from inrzoo.zoo.drapenet import DecoderConfig, DrapeNetConfig, EncoderConfig


@pytest.fixture
def tiny_config() -> DrapeNetConfig:
    torch.manual_seed(0)
    return DrapeNetConfig(encoder=EncoderConfig(channels=[8, 8, 16, 16], neighbours=4),
                          decoder=DecoderConfig(hidden_dim=32, blocks=2))
