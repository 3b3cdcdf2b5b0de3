"""Fit one INR per shape, many shapes at a time on one device.

    result = fit_batch(samples_list, "davies", surface=surface_points, stream_ids=dataset_indices)
    result.params            # {name: [K, ...]} (one architecture), result.by_arch() otherwise
    result.status, result.errors, result.metrics, result.arch, result.escalations
"""

from inrzoo.fit.batch import FAILED, OK, FitResult, fit_batch, surface_errors
from inrzoo.fit.config import (
    EarlyStoppingConfig,
    EscalationConfig,
    FitConfig,
    LossConfig,
    AdamConfig,
    PlateauConfig,
)
from inrzoo.fit.losses import LOSSES, FitLoss, make_loss
from inrzoo.fit.presets import PRESETS, preset

__all__ = [
    "FAILED",
    "LOSSES",
    "OK",
    "PRESETS",
    "EarlyStoppingConfig",
    "EscalationConfig",
    "FitConfig",
    "FitLoss",
    "FitResult",
    "LossConfig",
    "AdamConfig",
    "PlateauConfig",
    "fit_batch",
    "make_loss",
    "preset",
    "surface_errors",
]
