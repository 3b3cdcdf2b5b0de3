"""DrapeNet's garment loss: BCE on continuous labels plus lambda_g times a gradient loss.

Labels are the clipped ground-truth distances divided by delta, in [0, 1]; the BCE is taken on
the decoder's logits, so that sigmoid(logit) * delta, the predicted UDF, matches the clipped UDF.
(The released code trains on the labels 1 - d / delta and reads the UDF as (1 - sigmoid) * delta:
the same model with the logit's sign flipped.) The gradient loss is the mean squared difference
between the predicted UDF's spatial gradient and the ground-truth gradient (the unit vector from
the closest surface point), over the queries strictly between the surface and delta, where the
clipped UDF has that gradient (as in the released code).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def udf_labels(distances: Tensor, delta: float) -> Tensor:
    """Continuous BCE labels in [0, 1]: the distance clipped at delta, over delta."""
    return distances.clamp(0.0, delta) / delta


def garment_loss(logits: Tensor, queries: Tensor, distances: Tensor, gradients: Tensor, delta: float,
                 grad_weight: float) -> dict[str, Tensor]:
    """Loss terms for logits [B, N] of `queries` [B, N, 3] (requires_grad) and their ground truth.

    distances [B, N] (unclipped is fine), gradients [B, N, 3]. Returns total, bce and grad.
    """
    labels = udf_labels(distances, delta)
    bce = F.binary_cross_entropy_with_logits(logits, labels)
    if grad_weight == 0:
        return {"total": bce, "bce": bce, "grad": torch.zeros((), device=logits.device)}
    if not queries.requires_grad:
        raise ValueError("garment_loss: the gradient term needs queries with requires_grad=True")
    udf = torch.sigmoid(logits) * delta
    (predicted,) = torch.autograd.grad(udf.sum(), queries, create_graph=True)
    between = (labels > 0) & (labels < 1)
    if between.any():
        grad = F.mse_loss(predicted[between], gradients[between])
    else:
        grad = torch.zeros((), device=logits.device)
    return {"total": bce + grad_weight * grad, "bce": bce, "grad": grad}
