"""Per-shape reconstruction quality after a fit: Chamfer-L1 and F-score of the fitted field's
zero level set against the shape's reference surface points (those of the surface error).

From a fixed number of points by default (`eval.chamfer: points`: level-set points from a
coarse grid refined near the surface); `eval.chamfer: grid` samples a dense marching-cubes
mesh instead; `none` skips it. Unsigned-distance fits have no sign change at the surface and
get no Chamfer.
"""

from __future__ import annotations

import numpy as np
import torch

from inrzoo.fit.losses import make_loss
from inrzoo.inr import Params, build
from inrzoo.metrics import field_chamfer
from inrzoo.pipeline.config import EvalConfig
from inrzoo.sampling.samples import as_generator


class DecodedField(torch.nn.Module):
    """One fitted INR as the field whose zero set is the surface (the loss's decoding)."""

    def __init__(self, module: torch.nn.Module, decode):
        super().__init__()
        self.module = module
        self.decode = decode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.module(x))


def shape_quality(arch_spec, params: Params, field: str, loss_config, reference: np.ndarray,
                  cfg: EvalConfig, seed: int) -> dict[str, float]:
    """{"chamfer", "fscore"} of one fitted shape, or {} when the check is off or does not apply."""
    if cfg.chamfer == "none" or field == "udf" or reference is None or len(reference) == 0:
        return {}
    module = build(arch_spec).as_module({n: p.detach().float().cpu() for n, p in params.items()}).eval()
    loss = make_loss(loss_config, field)
    decoded = DecodedField(module, loss.decode)
    return field_chamfer(decoded, reference, n=cfg.chamfer_points, method=cfg.chamfer,
                         resolution=cfg.mesh_resolution, threshold=cfg.fscore_threshold, rng=as_generator(seed))

