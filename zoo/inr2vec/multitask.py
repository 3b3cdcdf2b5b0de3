"""The multi-task variant of Costain & Prisacariu on inr2vec.

The encoder is trained with reconstruction plus a classification head and a part segmentation
head: L = w_rec L_rec + w_cls CE(class) + w_seg CE(parts at labelled points). Their hold-out
protocol measures how general an encoding is: train the encoder with reconstruction and one
task (the held-out task's weight set to 0 by `holdout_config`), freeze it, train only the
held-out task's head on the frozen embeddings and report that task on the test split
(`holdout_evaluation`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Iterable, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inrzoo.zoo.core.loop import train_epoch
from inrzoo.zoo.core.model import StepContext
from inrzoo.zoo.inr2vec.config import MultiTaskConfig
from inrzoo.zoo.inr2vec.model import Inr2vec
from inrzoo.zoo.tasks.classification import Classifier, accuracy, train_classifier
from inrzoo.zoo.tasks.segmentation import (ClassParts, SegmentationDecoder, part_miou, predict_parts, segmentation_loss,
                                           train_segmentation)

Task = Literal["classification", "segmentation"]


@dataclass
class TaskBatch:
    """K stacked INRs with their class ids [K] and, where the data has them, part labels
    [K, N] at points [K, N, 3] (in the INRs' normalized frame)."""

    params: dict[str, Tensor]
    class_ids: Tensor
    part_points: Tensor | None = None
    part_labels: Tensor | None = None

    @property
    def size(self) -> int:
        return int(self.class_ids.shape[0])

    def to(self, device: torch.device | str | None) -> "TaskBatch":
        move = (lambda t: t if t is None or device is None else t.to(device))
        return TaskBatch({n: move(p).float() for n, p in self.params.items()}, move(self.class_ids),
                         move(self.part_points), move(self.part_labels))


class MultiTaskInr2vec(nn.Module):
    def __init__(self, model: Inr2vec, num_classes: int, num_parts: int, config: MultiTaskConfig | None = None) -> None:
        super().__init__()
        self.config = config or MultiTaskConfig()
        self.model = model
        dims = [model.embedding_dim, *self.config.classifier.layers_dim[1:]]
        self.classifier = Classifier(dims, num_classes, self.config.classifier.dropout)
        self.segmenter = SegmentationDecoder(model.embedding_dim, num_classes, num_parts, self.config.segmentation.decoder)


def holdout_config(config: MultiTaskConfig, held_out: Task) -> MultiTaskConfig:
    """The same config with the held-out task's loss switched off (stage one of the protocol)."""
    field = {"classification": "classification_weight", "segmentation": "segmentation_weight"}[held_out]
    return dataclasses.replace(config, **{field: 0.0})


def multitask_losses(mt: MultiTaskInr2vec, batch: TaskBatch, step: StepContext) -> dict[str, Tensor]:
    """The weighted total and its parts for one batch (tasks with weight 0 or no labels are skipped)."""
    cfg, model = mt.config, mt.model
    embeddings = model.encode(batch.params)
    reconstruction = model.reconstruction(batch.params, embeddings, step)
    losses = {"reconstruction": reconstruction["loss"],
              **{f"reconstruction_{k}": v for k, v in reconstruction.items() if k != "loss"}}
    total = cfg.reconstruction_weight * losses["reconstruction"]
    if cfg.classification_weight > 0:
        losses["classification"] = F.cross_entropy(mt.classifier(embeddings), batch.class_ids.long())
        total = total + cfg.classification_weight * losses["classification"]
    if cfg.segmentation_weight > 0 and batch.part_labels is not None:
        losses["segmentation"] = segmentation_loss(mt.segmenter, embeddings, batch.class_ids, batch.part_points,
                                                   batch.part_labels)
        total = total + cfg.segmentation_weight * losses["segmentation"]
    losses["loss"] = total
    return losses


def train_multitask_epoch(mt: MultiTaskInr2vec, batches: Iterable[TaskBatch], optimizer: torch.optim.Optimizer,
                          step: StepContext) -> dict[str, float]:
    """One pass over TaskBatches updating encoder, decoder and heads (the core's loop); mean of each loss."""
    return train_epoch(mt, batches, optimizer, step, losses_of=lambda batch, ctx: multitask_losses(mt, batch, ctx))


def holdout_evaluation(model: Inr2vec, held_out: Task, train: TaskBatch, test: TaskBatch, num_classes: int,
                       mt_config: MultiTaskConfig | None = None, num_parts: int | None = None,
                       class_parts: ClassParts | None = None, device: torch.device | str = "cpu") -> dict[str, float]:
    """Freeze the encoder, train only the held-out task's head on its embeddings, score on test."""
    mt_config = mt_config or MultiTaskConfig()
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        train_emb = model.encode(train.to(device).params).cpu()
        test_emb = model.encode(test.to(device).params).cpu()
    if held_out == "classification":
        cls_cfg = dataclasses.replace(mt_config.classifier, layers_dim=[model.embedding_dim, *mt_config.classifier.layers_dim[1:]])
        head, _ = train_classifier(train_emb, train.class_ids, num_classes, cls_cfg, device=device)
        return {"test_accuracy": accuracy(head, test_emb, test.class_ids)}
    if held_out == "segmentation":
        if train.part_labels is None or test.part_labels is None or num_parts is None:
            raise ValueError("holdout_evaluation: segmentation needs part points, part labels and num_parts")
        head, _ = train_segmentation(train_emb, train.class_ids, train.part_points, train.part_labels, num_classes,
                                     num_parts, mt_config.segmentation, device=device)
        parts = class_parts or {c: list(range(num_parts)) for c in range(num_classes)}
        pred = predict_parts(head, test_emb, test.class_ids, test.part_points, parts)
        return part_miou(pred, test.part_labels.cpu(), test.class_ids.cpu(), parts)
    raise ValueError(f"held_out must be 'classification' or 'segmentation', got {held_out!r}")
