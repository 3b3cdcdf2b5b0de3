"""Typed configuration of NetSpace (De Luigi's thesis ch. 4 and app. B; the ICPR 2022 code).

Defaults are the thesis sizes: 4096-value embedding, encoder channels E/32, E/16, E/8 then E,
decoder seeded from the embedding viewed as a 64x64 map, 256 channels per PRep row after the
first convolution, stage widths 128 / 512 / 256, 32 channels before the final reshape;
PRep width 10,000 (height 8 for SDF MLPs and one classifier family, 88 for four families);
KD temperature 4 and alpha 0.9 (the optimizer, Adam 1e-4 in the thesis, is the job config's
`train.optimizer`). The ClassId head exists when the zoo holds several architectures. Every size
can be shrunk for CPU runs and tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as _field
from typing import Literal

from inrzoo.zoo.components.surface_queries import SurfaceQueries


@dataclass
class PrepConfig:
    height: int = 0  # multiple of 4, >= ceil(P / width) for the largest network; 0: the smallest such
    width: int = 10_000  # multiple of 8


@dataclass
class EncoderConfig:
    embedding_size: int = 4096
    # Channels of the two horizontal (1x3, stride (1, 2)) and the first vertical (3x1)
    # convolution; the second vertical convolution outputs the embedding. Thesis: E/32, E/16, E/8.
    channels: list[int] = _field(default_factory=lambda: [128, 256, 512])
    negative_slope: float = 0.01


@dataclass
class DecoderConfig:
    seed_side: int = 64  # the embedding viewed as [E / side^2, side, side]
    row_channels: int = 256  # first convolution: PRep height x row_channels output channels
    stage_channels: list[int] = _field(default_factory=lambda: [128, 512, 256])  # after reshape 1, reshape 2, conv 3
    scale_init: float = 1e-3  # final per-element scale ~ N(0, scale_init^2)
    bias_init: float = 1e-2  # final per-element bias ~ U(0, bias_init)
    negative_slope: float = 0.01


@dataclass
class ClassIdConfig:
    channels: int = 10  # one stride-2 3x3 convolution over the embedding map, then one linear layer


@dataclass
class LossConfig:
    temperature: float = 4.0  # KL(teacher || student) on softmax(logits / T), times T^2
    alpha: float = 0.9  # L_kd = alpha KL + (1 - alpha) CE
    interpolation: bool = True  # the multi-architecture interpolation loss on boundary pairs
    # Classifier targets: "input" distills each decoded network from the network it encodes;
    # "best" from the most accurate training network of the zoo (the thesis uses a separately
    # trained ResNet-56 for the multi-architecture space; chosen stand-in).
    teacher: Literal["input", "best"] = "input"
    # SDF MLPs: shared query points per MLP and step (thesis code: 50,000 points of the shape's
    # SDF samples, half inside, half outside). Here drawn around the input MLP's own surface
    # (no mesh is read; chosen), the same for the MLP and its decoded twin.
    sdf_queries: SurfaceQueries = _field(default_factory=lambda: SurfaceQueries(num_queries=50_000))


@dataclass
class NetSpaceConfig:
    prep: PrepConfig = _field(default_factory=PrepConfig)
    encoder: EncoderConfig = _field(default_factory=EncoderConfig)
    decoder: DecoderConfig = _field(default_factory=DecoderConfig)
    class_id: ClassIdConfig = _field(default_factory=ClassIdConfig)
    loss: LossConfig = _field(default_factory=LossConfig)


@dataclass
class LatentOptimizationConfig:
    """Latent-space optimization (thesis ch. 4): encoder and decoder frozen, the embedding trained."""

    steps: int = 500
    lr: float = 1e-4
    batch_size: int = 128
    eval_every: int = 25  # the embedding with the best validation accuracy is kept
    class_weight: float = 1.0  # weight of L_class toward the requested architecture
