"""NetSpace's training objectives on one batch of networks (what `NetSpace.losses` returns).

Classifier spaces: the decoded networks are run on the batch's images and compared with their
targets by KD; with several architectures each decoded PRep is read as the architecture the
ClassId head predicts (as at inference, and as the thesis code does). SDF spaces: the input MLPs
and their decoded twins are evaluated at the same query points (MSE). Every term is returned
(the core logs them all); "loss" is the one minimized.
"""

from __future__ import annotations

import torch
from torch import Tensor

from inrzoo.inr import prep_to_params
from inrzoo.zoo.components.surface_queries import surface_queries
from inrzoo.zoo.netspace.config import LossConfig
from inrzoo.zoo.netspace.losses import (
    class_id_loss, distillation_kl, interpolate_embeddings, interpolation_points, kd_loss, sdf_distillation_loss,
)
from inrzoo.zoo.netspace.model import decoded_arch_ids, run_decoded


@torch.no_grad()
def teacher_logits(model, batch, cfg: LossConfig) -> Tensor:
    """KD targets: each input network's logits [B, N, C] ("input") or the fixed teacher's [N, C] ("best")."""
    if cfg.teacher == "input":
        return torch.stack(run_decoded(model.preps(batch.flat), batch.arch_ids, model.archs, batch.images))
    if batch.teacher_flat is None:
        raise ValueError("NetSpace: loss.teacher=best needs a fixed teacher, and the batch carries none")
    return run_decoded(model.preps(batch.teacher_flat), batch.teacher_arch, model.archs, batch.images)[0]


def _teacher_for(targets: Tensor, k: int) -> Tensor:
    return targets[k] if targets.dim() == 3 else targets


def classifier_losses(model, batch, cfg: LossConfig) -> dict[str, Tensor]:
    """One architecture: KL to each input network (mean over networks). Several: L_class + L_kd per
    network (summed over networks, as the thesis code does) plus the interpolation loss."""
    targets = teacher_logits(model, batch, cfg)
    embeddings, decoded, arch_logits = model(model.preps(batch.flat))
    used = decoded_arch_ids(arch_logits, decoded.shape[0], decoded.device)
    students = run_decoded(decoded, used, model.archs, batch.images)
    if arch_logits is None:
        kl = torch.stack([distillation_kl(s, _teacher_for(targets, k), cfg.temperature)
                          for k, s in enumerate(students)]).mean()
        return {"loss": kl, "kl": kl.detach()}
    terms = [kd_loss(s, _teacher_for(targets, k), batch.labels, cfg.alpha, cfg.temperature) for k, s in enumerate(students)]
    l_class = class_id_loss(arch_logits, batch.arch_ids)
    l_kd = torch.stack([t.total for t in terms]).sum()
    out = {"loss": l_class + l_kd, "class": l_class.detach(), "kd": l_kd.detach(),
           "kl": torch.stack([t.kl for t in terms]).mean().detach(),
           "ce": torch.stack([t.ce for t in terms]).mean().detach(),
           "class_id_accuracy": (used == batch.arch_ids).float().mean()}
    if cfg.interpolation:
        l_interp, points = interpolation_loss(model, embeddings, batch.arch_ids, batch.images, batch.labels, targets, cfg)
        out["loss"] = out["loss"] + l_interp
        out.update(interpolation=l_interp.detach(), interpolation_points=torch.tensor(float(points)))
    return out


def interpolation_loss(model, embeddings: Tensor, arch_ids: Tensor, images: Tensor, labels: Tensor, targets: Tensor,
                       cfg: LossConfig) -> tuple[Tensor, int]:
    """L_class + L_kd at the interpolation points between boundary embeddings of the batch."""
    points = interpolation_points(arch_ids, len(model.archs))
    if points.gamma.numel() == 0:
        return embeddings.new_zeros(()), 0
    if targets.dim() == 3:
        raise ValueError("NetSpace: the interpolation loss needs one teacher for all networks (loss.teacher=best); "
                         "an interpolated embedding has no input network to distill from")
    decoded, arch_logits = model.decode(interpolate_embeddings(embeddings, points))
    used = decoded_arch_ids(arch_logits, decoded.shape[0], decoded.device)
    students = run_decoded(decoded, used, model.archs, images)
    l_kd = torch.stack([kd_loss(s, targets, labels, cfg.alpha, cfg.temperature).total for s in students]).sum()
    return class_id_loss(arch_logits, points.target_arch) + l_kd, int(points.gamma.numel())


def sdf_losses(model, batch, cfg: LossConfig, generator: torch.Generator | None = None) -> dict[str, Tensor]:
    """MSE between the input MLPs (exactly their PReps) and the decoded MLPs at shared queries
    drawn around each input MLP's surface (its raw output is its signed distance)."""
    if len(model.archs) != 1:
        raise ValueError(f"NetSpace: an SDF space holds one MLP architecture, the zoo has {len(model.archs)}")
    arch = model.archs[0]
    preps = model.preps(batch.flat)
    shapes = arch.param_shapes()
    q = cfg.sdf_queries
    with torch.no_grad():
        params = prep_to_params(preps, shapes)
        queries = surface_queries(lambda points: arch.forward(params, points), preps.shape[0], preps, q.num_queries,
                                  q.near_fraction, q.pool_factor, q.beta, q.stds, generator)
        target = arch.forward(params, queries)
    _, decoded, _ = model(preps)
    loss = sdf_distillation_loss(arch.forward(prep_to_params(decoded, shapes), queries), target)
    return {"loss": loss, "mse": loss.detach()}
