"""NetSpace's losses (thesis ch. 4), on outputs of decoded networks and of their targets.

- SDF MLPs: MSE between the input MLP's and its decoded twin's values at shared queries.
- Classifiers, one architecture: KD with temperature T = 4,
  KL(softmax(t/T) || softmax(p/T)) * T^2 with t the target's and p the decoded network's
  logits (the thesis writes the pair the other way round; its code, like Hinton et al.,
  weights by the target's distribution, which is what this computes), averaged over images.
- Several architectures: L_kd = alpha KL + (1 - alpha) CE(labels), alpha = 0.9, plus L_class,
  the cross-entropy of the ClassId head against the true architecture, and the interpolation
  loss: for pairs of boundary embeddings (architectures 0 and A-1), the points
  (1 - gamma) e_0 + gamma e_{A-1}, gamma = i / (A-1), i = 1..A-2, must decode to architecture i
  (L_class) and to a network that satisfies L_kd.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


def sdf_distillation_loss(decoded_values: torch.Tensor, target_values: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(decoded_values, target_values)


def distillation_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float = 4.0) -> torch.Tensor:
    """KL between the tempered softmaxes of teacher and student, times T^2, averaged over images."""
    t = temperature
    log_student = F.log_softmax(student_logits / t, dim=-1)
    teacher = F.softmax(teacher_logits.detach() / t, dim=-1)
    return F.kl_div(log_student, teacher, reduction="batchmean") * t * t


@dataclass
class KdTerms:
    total: torch.Tensor
    kl: torch.Tensor
    ce: torch.Tensor


def kd_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor,
            alpha: float = 0.9, temperature: float = 4.0) -> KdTerms:
    """L_kd = alpha KL + (1 - alpha) CE of one network on one batch of images."""
    kl = distillation_kl(student_logits, teacher_logits, temperature)
    ce = F.cross_entropy(student_logits, labels)
    return KdTerms(total=alpha * kl + (1 - alpha) * ce, kl=kl, ce=ce)


def class_id_loss(arch_logits: torch.Tensor, arch_ids: torch.Tensor) -> torch.Tensor:
    """L_class summed over networks (as the thesis code does)."""
    return F.cross_entropy(arch_logits, arch_ids, reduction="sum")


@dataclass
class InterpolationPoints:
    first: torch.Tensor  # batch index of the architecture-0 end
    last: torch.Tensor  # batch index of the architecture-(A-1) end
    gamma: torch.Tensor  # i / (A - 1)
    target_arch: torch.Tensor  # i


def interpolation_points(arch_ids: torch.Tensor, num_archs: int) -> InterpolationPoints:
    """Every (architecture 0, architecture A-1) pair of the batch, at gamma = i/(A-1), i = 1..A-2."""
    device = arch_ids.device
    firsts = torch.nonzero(arch_ids == 0).flatten()
    lasts = torch.nonzero(arch_ids == num_archs - 1).flatten()
    steps = torch.arange(1, max(num_archs - 1, 1), device=device)
    if num_archs < 3 or firsts.numel() == 0 or lasts.numel() == 0:
        empty = torch.zeros(0, dtype=torch.long, device=device)
        return InterpolationPoints(empty, empty, torch.zeros(0, device=device), empty)
    a, b, i = torch.meshgrid(firsts, lasts, steps, indexing="ij")
    return InterpolationPoints(first=a.flatten(), last=b.flatten(),
                               gamma=i.flatten().float() / (num_archs - 1), target_arch=i.flatten())


def interpolate_embeddings(embeddings: torch.Tensor, points: InterpolationPoints) -> torch.Tensor:
    gamma = points.gamma.to(embeddings.dtype).unsqueeze(1)
    return (1 - gamma) * embeddings[points.first] + gamma * embeddings[points.last]
