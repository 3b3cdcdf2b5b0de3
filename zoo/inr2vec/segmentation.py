"""Part segmentation from inr2vec embeddings (thesis C.5).

The SegmentationDecoder reads [embedding, one-hot class] and a point and predicts part
logits; it is trained with per-point cross entropy, AdamW and OneCycle. The metric is the
ShapeNet-Part mIoU: logits restricted to the parts of the shape's class, per-shape IoU averaged
over that class's parts (a part absent from both prediction and ground truth counts as 1),
then averaged over shapes (instance mIoU) and over classes (class mIoU).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from inrzoo.zoo.inr2vec.config import SegmentationConfig
from inrzoo.zoo.inr2vec.heads import SegmentationDecoder
from inrzoo.zoo.inr2vec.head_training import fit_minibatches, one_cycle

ClassParts = Mapping[int, Sequence[int]]  # class id -> its part ids


@torch.no_grad()
def predict_parts(model: SegmentationDecoder, embeddings: Tensor, class_ids: Tensor, points: Tensor,
                  class_parts: ClassParts | None = None, batch_size: int = 64) -> Tensor:
    """Part ids [B, N]; with `class_parts`, only the parts of each shape's class can be chosen."""
    model.eval()
    device = next(model.parameters()).device
    out = []
    for i in range(0, len(embeddings), batch_size):
        sl = slice(i, i + batch_size)
        logits = model(embeddings[sl].to(device), class_ids[sl].to(device), points[sl].to(device)).cpu()
        if class_parts is not None:
            mask = torch.full((len(logits), model.num_parts), float("-inf"))
            for row, cls in enumerate(class_ids[sl].tolist()):
                mask[row, list(class_parts[cls])] = 0.0
            logits = logits + mask.unsqueeze(1)
        out.append(logits.argmax(-1))
    return torch.cat(out) if out else torch.zeros(0, points.shape[1], dtype=torch.long)


def part_miou(pred: Tensor, target: Tensor, class_ids: Tensor, class_parts: ClassParts) -> dict[str, float]:
    """{"instance_miou", "class_miou"} of predicted part ids against ground truth [B, N]."""
    per_class: dict[int, list[float]] = {}
    for p, t, cls in zip(pred, target, class_ids.tolist()):
        ious = []
        for part in class_parts[cls]:
            inter = int(((p == part) & (t == part)).sum())
            union = int(((p == part) | (t == part)).sum())
            ious.append(1.0 if union == 0 else inter / union)
        per_class.setdefault(cls, []).append(sum(ious) / len(ious))
    shapes = [v for values in per_class.values() for v in values]
    if not shapes:
        raise ValueError("part_miou: no shapes to score")
    return {"instance_miou": sum(shapes) / len(shapes),
            "class_miou": sum(sum(v) / len(v) for v in per_class.values()) / len(per_class)}


def segmentation_loss(model: SegmentationDecoder, embeddings: Tensor, class_ids: Tensor, points: Tensor,
                      part_labels: Tensor) -> Tensor:
    logits = model(embeddings, class_ids, points)
    return F.cross_entropy(logits.reshape(-1, model.num_parts), part_labels.reshape(-1).long())


def train_segmentation(embeddings: Tensor, class_ids: Tensor, points: Tensor, part_labels: Tensor, num_classes: int,
                       num_parts: int, config: SegmentationConfig | None = None, class_parts: ClassParts | None = None,
                       val: tuple[Tensor, Tensor, Tensor, Tensor] | None = None,
                       device: torch.device | str = "cpu") -> tuple[SegmentationDecoder, dict[str, list[float]]]:
    """Train on embeddings [B, E], class ids [B], points [B, N, 3], part labels [B, N].

    With `val` = (embeddings, class_ids, points, part_labels) and `class_parts`, the weights
    with the best validation class mIoU are kept.
    """
    config = config or SegmentationConfig()
    if not (len(embeddings) == len(class_ids) == len(points) == len(part_labels)):
        raise ValueError("train_segmentation: embeddings, class ids, points and part labels differ in count")
    if points.shape[:2] != part_labels.shape:
        raise ValueError(f"train_segmentation: points {tuple(points.shape)} and labels {tuple(part_labels.shape)} differ")
    torch.manual_seed(config.seed)
    model = SegmentationDecoder(embeddings.shape[1], num_classes, num_parts, config.decoder).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = one_cycle(optimizer, config.lr, config.epochs, len(embeddings), config.batch_size)

    def batch_loss(idx: Tensor) -> Tensor:
        return segmentation_loss(model, embeddings[idx].to(device), class_ids[idx].to(device),
                                 points[idx].to(device), part_labels[idx].to(device))

    def validate() -> float:
        v_emb, v_cls, v_pts, v_lbl = val
        return part_miou(predict_parts(model, v_emb, v_cls, v_pts, class_parts), v_lbl, v_cls, class_parts)["class_miou"]

    history = fit_minibatches(model, len(embeddings), batch_loss, optimizer, epochs=config.epochs,
                              batch_size=config.batch_size, seed=config.seed, scheduler=scheduler,
                              validate=validate if val is not None and class_parts is not None else None)
    return model, {"loss": history["loss"], "val_class_miou": history["val"]}


def class_parts_from_labels(class_ids: Tensor, part_labels: Tensor) -> dict[int, list[int]]:
    """The parts seen per class in labelled data (when the dataset does not list them)."""
    result: dict[int, set[int]] = {}
    for cls, labels in zip(class_ids.tolist(), part_labels):
        result.setdefault(cls, set()).update(int(v) for v in labels.unique())
    return {cls: sorted(parts) for cls, parts in result.items()}
