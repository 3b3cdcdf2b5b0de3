"""Latent-space optimization (thesis ch. 4): a network found by optimizing only its embedding.

The encoder and decoder stay frozen; starting from an embedding (the encoding of a reference
network, or a random one), Adam moves the embedding so that the decoded network minimizes
L_kd against a teacher on training images, plus L_class toward a requested architecture when
the space holds several. The embedding with the best validation accuracy is kept and reported
on the held-out test images (as the thesis code does).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from inrzoo.classifiers import ImageSplit, ImageSplits, accuracy, minibatches
from inrzoo.zoo.netspace.config import LatentOptimizationConfig, LossConfig
from inrzoo.zoo.netspace.losses import kd_loss
from inrzoo.zoo.netspace.model import NetSpace, decoded_arch_ids, run_decoded

log = logging.getLogger(__name__)


@dataclass
class LatentResult:
    embedding: torch.Tensor  # [E], the best embedding found
    arch: int  # the architecture it decodes to
    initial: dict[str, float]  # val/test accuracy and architecture of the start embedding
    best_val_accuracy: float
    test_accuracy: float
    steps: int


@torch.no_grad()
def decoded_accuracy(model: NetSpace, embedding: torch.Tensor, split: ImageSplit) -> tuple[float, int]:
    """(accuracy on the split, architecture) of the network an embedding [E] decodes to."""
    decoded, arch_logits = model.decode(embedding.reshape(1, -1))
    arch = int(decoded_arch_ids(arch_logits, 1, decoded.device)[0])
    ids = torch.tensor([arch], device=decoded.device)
    acc = accuracy(lambda images: run_decoded(decoded, ids, model.archs, images)[0], split)
    return acc, arch


def optimize_embedding(model: NetSpace, start: torch.Tensor, teacher, data: ImageSplits,
                       target_arch: int | None = None, cfg: LatentOptimizationConfig | None = None,
                       loss_cfg: LossConfig | None = None, seed: int = 0) -> LatentResult:
    """Optimize an embedding [E] so its decoded network matches `teacher` (images -> logits)."""
    cfg, loss_cfg = cfg or LatentOptimizationConfig(), loss_cfg or LossConfig()
    if model.class_id is not None and target_arch is None:
        raise ValueError("optimize_embedding: a multi-architecture space needs the requested target_arch")
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    embedding = start.detach().reshape(1, -1).clone().requires_grad_(True)
    optimizer = torch.optim.Adam([embedding], lr=cfg.lr)
    generator = torch.Generator().manual_seed(seed)
    val0, arch0 = decoded_accuracy(model, embedding[0], data.val)
    initial = {"val_accuracy": val0, "test_accuracy": decoded_accuracy(model, embedding[0], data.test)[0],
               "arch": arch0}
    admissible = target_arch is None or arch0 == target_arch
    best, best_val, step = embedding.detach()[0].clone(), (val0 if admissible else -1.0), 0
    while step < cfg.steps:
        for images, labels in minibatches(data.train, cfg.batch_size, generator):
            decoded, arch_logits = model.decode(embedding)
            used = decoded_arch_ids(arch_logits, 1, decoded.device)
            student = run_decoded(decoded, used, model.archs, images)[0]
            with torch.no_grad():
                target = teacher(images)
            loss = kd_loss(student, target, labels, loss_cfg.alpha, loss_cfg.temperature).total
            if arch_logits is not None:
                loss = loss + cfg.class_weight * F.cross_entropy(arch_logits, torch.tensor([target_arch], device=arch_logits.device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            if step % cfg.eval_every == 0 or step == cfg.steps:
                val, arch = decoded_accuracy(model, embedding.detach()[0], data.val)
                if val > best_val and (target_arch is None or arch == target_arch):
                    best, best_val = embedding.detach()[0].clone(), val
                log.info("latent optimization step %d: loss %.4f, val accuracy %.4f (arch %d)", step, loss.item(), val, arch)
            if step >= cfg.steps:
                break
    test, arch = decoded_accuracy(model, best, data.test)
    return LatentResult(embedding=best, arch=arch, initial=initial, best_val_accuracy=best_val,
                        test_accuracy=test, steps=step)
