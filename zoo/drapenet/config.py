"""Typed configuration of DrapeNet's garment model (De Luigi's thesis, ch. 2 and app. A).

Defaults are the thesis's and the released code's (liren2515/DrapeNet, cfg/encdec.yaml): a 32-value
latent code, UDFs clipped at delta = 0.1, a DGCNN encoder with K = 16 neighbours (the released
code's default is 20; the thesis says 16), a decoder with NeRF positional encoding (63 values) and
5 residual blocks of width 512 with conditional batch norm, BCE plus 0.1 x the gradient loss.
The rest of the thesis's setup lives where the zoo core reads it: 10,000 encoder points and 20,000
queries per garment and step in `data.options` (`GarmentOptions`), Adam lr 1e-4, batches of 4
garments and 4,000 epochs in `train:`. One model is trained for tops and one for bottoms.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class EncoderConfig:
    channels: list[int] = field(default_factory=lambda: [64, 64, 128, 256])  # the 4 EdgeConvs
    neighbours: int = 16  # K of the kNN graph, computed once in xyz
    negative_slope: float = 0.2  # LeakyReLU after every batch norm


@dataclass
class DecoderConfig:
    hidden_dim: int = 512
    blocks: int = 5
    num_frequencies: int = 10  # 3 + 3 * 2 * 10 = 63 encoded values
    max_frequency_log2: int = 9


@dataclass
class DrapeNetConfig:
    latent_dim: int = 32
    delta: float = 0.1  # UDF clipping distance; the decoder outputs sigmoid(.) * delta
    grad_weight: float = 0.1  # lambda_g
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)

    def __post_init__(self) -> None:
        if self.latent_dim < 1 or self.delta <= 0 or self.grad_weight < 0:
            raise ValueError(f"DrapeNetConfig: latent_dim >= 1, delta > 0, grad_weight >= 0 required, got "
                             f"{self.latent_dim}, {self.delta}, {self.grad_weight}")
        if len(self.encoder.channels) != 4:
            raise ValueError(f"DrapeNetConfig: the encoder has 4 EdgeConvs, got channels {self.encoder.channels}")
