"""Typed configuration of a batched fit (built from YAML by inrzoo.config, or by a preset)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from inrzoo.inr.spec import ArchSpec


@dataclass
class LossConfig:
    """name: l1 | clamped_l1 | curriculum | bce | focal | sal.

    delta: clamp distance (clamped_l1, curriculum) or the distance normalized to 1 (bce).
    curriculum: Duan et al.'s epsilon/lambda schedule as [epoch, epsilon, lambda] rows,
      each row active from its epoch on (Sergeev's values by default).
    focal_alpha / focal_gamma: Lin et al.'s focal loss on occupancy logits.
    eikonal_weight: weight of the optional mean (|grad f| - 1)^2 term (0 disables it).
    """

    name: Literal["l1", "clamped_l1", "curriculum", "bce", "focal", "sal"] = "l1"
    delta: float = 0.1
    curriculum: list[list[float]] = field(
        default_factory=lambda: [
            [0, 0.025, 0.0],
            [200, 0.01, 0.1],
            [600, 0.0025, 0.2],
            [1000, 0.0, 0.5],
            [5000, 0.0, 0.8],
        ]
    )
    focal_alpha: float = 0.25
    focal_gamma: float = 2.0
    eikonal_weight: float = 0.0


@dataclass
class AdamConfig:
    """Adam (Kingma & Ba) applied per shape over stacked tensors."""

    lr: float = 1e-4
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-7  # Keras' Adam epsilon (Davies); the torch-based papers use 1e-8


@dataclass
class EarlyStoppingConfig:
    """Stop a shape when its epoch loss has not improved by min_delta for `patience` epochs."""

    enabled: bool = True
    patience: int = 10
    min_delta: float = 0.0


@dataclass
class PlateauConfig:
    """ReduceLROnPlateau per shape (torch semantics, mode 'min', relative threshold)."""

    enabled: bool = False
    factor: float = 0.5
    patience: int = 10
    threshold: float = 1e-4
    cooldown: int = 0
    min_lr: float = 0.0


@dataclass
class EscalationConfig:
    """Davies A.2: a shape whose surface error exceeds target_surface_error is refit with the
    next architecture of `ladder` (the fit's own arch is the first rung)."""

    ladder: list[ArchSpec] = field(default_factory=list)
    target_surface_error: float = 0.003


@dataclass
class FitConfig:
    """One fit: architecture, loss, optimizer, budget, schedules, escalation, device.

    Budget: an epoch is one pass over a shape's samples in batches of batch_size (the last
    partial batch dropped); max_epochs and max_steps both bound a shape (0 = no bound).
    """

    arch: ArchSpec = field(default_factory=ArchSpec)
    loss: LossConfig = field(default_factory=LossConfig)
    optimizer: AdamConfig = field(default_factory=AdamConfig)
    batch_size: int = 2048
    max_epochs: int = 100
    max_steps: int = 0
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
    plateau: PlateauConfig = field(default_factory=PlateauConfig)
    escalation: EscalationConfig = field(default_factory=EscalationConfig)
    divergence_factor: float = 1e4  # loss above factor x its first epoch -> failed (diverged)
    seed: int = 0  # initialization and every shape's batch stream derive from it
    # shared: every INR starts from init_params(seed) (inr2vec's shared initialization);
    # per_shape: each from its own seed, a function of (seed, shape id) (NetSpace's SDF zoo)
    init: Literal["shared", "per_shape"] = "shared"
    device: str = "cpu"
    dtype: Literal["float32", "float64"] = "float32"
    num_threads: int = 0  # torch intra-op threads; 0 leaves torch's setting alone
    shape_chunk: int = -1  # shapes per forward/backward: -1 auto (cache-sized on CPU, all on GPU), 0 all

    def __post_init__(self) -> None:
        if self.batch_size <= 0:
            raise ValueError(f"FitConfig: batch_size must be positive, got {self.batch_size}")
        if self.max_epochs <= 0 and self.max_steps <= 0:
            raise ValueError("FitConfig: set max_epochs or max_steps (both are 0: the fit would never stop)")
