"""NetSpace's training objectives on one batch of networks: what the training loop minimizes.

Classifier spaces: the decoded networks are run on a batch of images and compared with their
targets (KD); with several architectures each decoded PRep is read as the architecture the
ClassId head predicts (as at inference, and as the thesis code does). SDF spaces: the decoded
MLPs and the input MLPs are evaluated at the same query points (MSE).
"""

from __future__ import annotations

import torch

from inrzoo.inr import prep_to_params
from inrzoo.zoo.netspace.config import LossConfig
from inrzoo.zoo.netspace.losses import (
    class_id_loss, distillation_kl, interpolate_embeddings, interpolation_points, kd_loss, sdf_distillation_loss,
)
from inrzoo.zoo.netspace.model import NetSpace, decoded_arch_ids, run_decoded


def _teacher_for(teacher_logits: torch.Tensor, k: int) -> torch.Tensor:
    """teacher_logits: [B, N, C] (one target per network) or [N, C] (one teacher for all)."""
    return teacher_logits[k] if teacher_logits.dim() == 3 else teacher_logits


def classifier_loss(model: NetSpace, preps: torch.Tensor, arch_ids: torch.Tensor, archs: list, images: torch.Tensor,
                    labels: torch.Tensor, teacher_logits: torch.Tensor, cfg: LossConfig) -> tuple[torch.Tensor, dict[str, float]]:
    """The loss of one batch of classifier PReps [B, 1, H, W] with true architectures arch_ids [B]."""
    embeddings, decoded, arch_logits = model(preps)
    used = decoded_arch_ids(arch_logits, preps.shape[0], preps.device)
    students = run_decoded(decoded, used, archs, images)
    if arch_logits is None:
        kl = torch.stack([distillation_kl(s, _teacher_for(teacher_logits, k), cfg.temperature)
                          for k, s in enumerate(students)]).mean()
        return kl, {"kl": kl.item()}
    terms = [kd_loss(s, _teacher_for(teacher_logits, k), labels, cfg.alpha, cfg.temperature) for k, s in enumerate(students)]
    l_class = class_id_loss(arch_logits, arch_ids)
    l_kd = torch.stack([t.total for t in terms]).sum()
    total = l_class + l_kd
    metrics = {"class": l_class.item(), "kd": l_kd.item(), "kl": torch.stack([t.kl for t in terms]).mean().item(),
               "ce": torch.stack([t.ce for t in terms]).mean().item(),
               "class_id_accuracy": float((used == arch_ids).float().mean())}
    if cfg.interpolation:
        l_interp, n_points = interpolation_loss(model, embeddings, arch_ids, archs, images, labels, teacher_logits, cfg)
        total = total + l_interp
        metrics.update(interpolation=l_interp.item(), interpolation_points=n_points)
    return total, metrics


def interpolation_loss(model: NetSpace, embeddings: torch.Tensor, arch_ids: torch.Tensor, archs: list,
                       images: torch.Tensor, labels: torch.Tensor, teacher_logits: torch.Tensor,
                       cfg: LossConfig) -> tuple[torch.Tensor, int]:
    """L_class + L_kd at the interpolation points between boundary embeddings of the batch."""
    points = interpolation_points(arch_ids, len(archs))
    if points.gamma.numel() == 0:
        return embeddings.new_zeros(()), 0
    if teacher_logits.dim() == 3:
        raise ValueError("NetSpace: the interpolation loss needs one teacher for all networks (loss.teacher=best); "
                         "an interpolated embedding has no input network to distill from")
    decoded, arch_logits = model.decode(interpolate_embeddings(embeddings, points))
    used = decoded_arch_ids(arch_logits, decoded.shape[0], decoded.device)
    students = run_decoded(decoded, used, archs, images)
    l_kd = torch.stack([kd_loss(s, teacher_logits, labels, cfg.alpha, cfg.temperature).total for s in students]).sum()
    return class_id_loss(arch_logits, points.target_arch) + l_kd, int(points.gamma.numel())


def sdf_loss(model: NetSpace, preps: torch.Tensor, arch, queries: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    """MSE between the input MLPs (exactly their PReps) and the decoded MLPs at queries [B, N, 3]."""
    shapes = arch.param_shapes()
    with torch.no_grad():
        target = arch.forward(prep_to_params(preps, shapes), queries)
    _, decoded, _ = model(preps)
    loss = sdf_distillation_loss(arch.forward(prep_to_params(decoded, shapes), queries), target)
    return loss, {"mse": loss.item()}
