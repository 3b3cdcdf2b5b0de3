"""Typed configuration of DrapeNet's garment model (De Luigi's thesis, ch. 2 and app. A).

Defaults are the thesis's and the released code's (liren2515/DrapeNet, cfg/encdec.yaml): a 32-value
latent code, UDFs clipped at delta = 0.1, a DGCNN encoder over 10,000 surface points with K = 16
neighbours (the released code's default is 20; the thesis says 16), a decoder with NeRF positional
encoding (63 values) and 5 residual blocks of width 512 with conditional batch norm, BCE plus
0.1 x the gradient loss on 20,000 query points per garment, Adam 1e-4, batches of 4 garments,
4,000 epochs; one model for tops and one for bottoms. Every size can be shrunk for tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


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
class GarmentDataConfig:
    """Where the garments come from and how each becomes training samples (`data.py`)."""

    collection: str = ".inrzoo/garments"  # a folder collection with index.csv (inrzoo.garments)
    index: str = "index.csv"
    category: Literal["top", "bottom"] = "top"
    samples: str = ".inrzoo/drapenet_samples_top.zarr"  # prepared samples (Zarr), made once
    queries_per_garment: int = 100_000  # DrapeNet mixture points stored per garment
    eps: float = 0.003  # the mixture's noise scale (surface + N(eps), + N(3 eps), uniform)
    surface_points: int = 20_000  # stored surface points the encoder's input is drawn from
    limit: int | None = None  # N garments of the category, round robin over the types (smoke runs)
    seed: int = 0
    workers: int = 1  # processes preparing garments in parallel (the content does not depend on it)


@dataclass
class TrainConfig:
    epochs: int = 4000
    batch_size: int = 4
    points_encoder: int = 10_000  # encoder input points per garment and step
    points_decoder: int = 20_000  # query points per garment and step
    lr: float = 1e-4
    seed: int = 0


@dataclass
class DrapeNetConfig:
    latent_dim: int = 32
    delta: float = 0.1  # UDF clipping distance; the decoder outputs sigmoid(.) * delta
    grad_weight: float = 0.1  # lambda_g
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    data: GarmentDataConfig = field(default_factory=GarmentDataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        if self.latent_dim < 1 or self.delta <= 0 or self.grad_weight < 0:
            raise ValueError(f"DrapeNetConfig: latent_dim >= 1, delta > 0, grad_weight >= 0 required, got "
                             f"{self.latent_dim}, {self.delta}, {self.grad_weight}")
        if len(self.encoder.channels) != 4:
            raise ValueError(f"DrapeNetConfig: the encoder has 4 EdgeConvs, got channels {self.encoder.channels}")
