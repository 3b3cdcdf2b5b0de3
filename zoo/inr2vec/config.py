"""Typed configuration of inr2vec and of its downstream tasks.

Defaults are the sizes of the thesis (chapter 5, appendix C.3-C.5) and of the released
inr2vec configs: encoder stages 512-512-1024-1024 into a 1024-value embedding, implicit decoder
with 63-value positional encoding and 4 hidden layers of 512 around one skip, AdamW lr 1e-4,
weight decay 1e-2. Every size can be shrunk for tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as _field
from typing import Literal


@dataclass
class EncoderConfig:
    hidden_dims: list[int] = _field(default_factory=lambda: [512, 512, 1024, 1024])
    embedding_dim: int = 1024
    # "hidden": the stacked hidden-to-hidden layers (the paper); "all": also the first and
    # the last layer of the INR (the variant of thesis C.8).
    layers: Literal["hidden", "all"] = "hidden"
    # "standardize" (chosen, issue 17; not in the thesis): every entry of the input matrix is
    # standardized by its mean and deviation over the training INRs (`Inr2vec.fit_input_normalization`).
    # With a shared initialization the init is the same in every INR; at small fitting budgets it
    # is as large as what each shape adds, and a row-wise encoder cannot subtract it by itself.
    input_normalization: Literal["none", "standardize"] = "none"


@dataclass
class DecoderConfig:
    hidden_dim: int = 512
    layers_before_skip: int = 2
    layers_after_skip: int = 2
    num_frequencies: int = 10  # 3 + 3*2*10 = 63 encoded values for a 3D query
    max_frequency_log2: int = 9


@dataclass
class TeacherConfig:
    """How queries are drawn and how the input INR's output becomes a supervision target."""

    # What the input INRs were fitted to and with which inrzoo.fit loss: the loss's `decode`
    # turns their raw output into the field (e.g. sigmoid of BCE logits back to distances).
    field: Literal["sdf", "udf", "occupancy"] = "sdf"
    inr_loss: Literal["l1", "clamped_l1", "curriculum", "bce", "focal", "sal"] = "l1"
    inr_delta: float = 0.1  # the fit loss's delta (the distance BCE normalized to 1)
    clamp: float = 0.1  # inr2vec targets: distances clamped to [-clamp, clamp] (signed) / [0, clamp]
    num_queries: int = 10_000
    near_fraction: float = 0.8  # the rest are uniform in [-1, 1]^3
    pool_factor: int = 4  # uniform candidates per near-surface query
    beta: float = 30.0  # importance weight exp(-beta * |distance|) picks candidates near the surface
    stds: list[float] = _field(default_factory=lambda: [0.003, 0.01, 0.1])  # jitter around picks


@dataclass
class OptimizerConfig:
    lr: float = 1e-4
    weight_decay: float = 1e-2


@dataclass
class Inr2vecConfig:
    encoder: EncoderConfig = _field(default_factory=EncoderConfig)
    decoder: DecoderConfig = _field(default_factory=DecoderConfig)
    teacher: TeacherConfig = _field(default_factory=TeacherConfig)
    optimizer: OptimizerConfig = _field(default_factory=OptimizerConfig)
    loss: Literal["bce", "mse"] = "bce"
    epochs: int = 300
    batch_size: int = 16
    seed: int = 0


@dataclass
class ClassifierConfig:
    """Thesis C.5: Linear+BatchNorm+ReLU+Dropout stages 1024-512-256, then the class layer."""

    layers_dim: list[int] = _field(default_factory=lambda: [1024, 512, 256])
    dropout: float = 0.5
    lr: float = 1e-4
    weight_decay: float = 1e-2
    epochs: int = 150
    batch_size: int = 256
    seed: int = 0


@dataclass
class SegmentationConfig:
    """Part segmentation: the implicit decoder with the one-hot class appended to the embedding."""

    decoder: DecoderConfig = _field(default_factory=DecoderConfig)
    lr: float = 1e-4
    weight_decay: float = 1e-2
    epochs: int = 250
    batch_size: int = 256
    seed: int = 0


@dataclass
class GanConfig:
    """Latent-GAN of Achlioptas et al. (WGAN-GP) on inr2vec embeddings."""

    noise_dim: int = 128
    generator_dims: list[int] = _field(default_factory=lambda: [128])  # then embedding_dim, ReLU out
    discriminator_dims: list[int] = _field(default_factory=lambda: [256, 512])  # then 1 logit
    noise_std: float = 0.2
    gp_weight: float = 10.0
    critic_steps: int = 5
    lr: float = 1e-4
    beta1: float = 0.5
    beta2: float = 0.999
    epochs: int = 2000
    batch_size: int = 50
    seed: int = 0


@dataclass
class TransferConfig:
    """Embedding-to-embedding transfer: 8 Linear layers, BatchNorm+ReLU between them, MSE."""

    num_layers: int = 8
    lr: float = 1e-4
    weight_decay: float = 1e-4
    epochs: int = 300
    batch_size: int = 256
    seed: int = 0


@dataclass
class MultiTaskConfig:
    """Costain & Prisacariu: reconstruction trained jointly with classification and segmentation."""

    reconstruction_weight: float = 1.0
    classification_weight: float = 1.0
    segmentation_weight: float = 1.0
    classifier: ClassifierConfig = _field(default_factory=ClassifierConfig)
    segmentation: SegmentationConfig = _field(default_factory=SegmentationConfig)
