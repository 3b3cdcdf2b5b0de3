"""Part segmentation from embeddings (inr2vec thesis C.5), on datasets with part labels.

The SegmentationDecoder (the implicit decoder of inrzoo.zoo.components with [embedding, one-hot
class] as its code) reads a point and predicts part logits; it is trained with per-point cross
entropy, AdamW and OneCycle. Part labels stay in the source files: a row's meta names the parts
of its class (`part_ids`) and its source URI leads to the labelled points, which are brought
into the INR's frame with the row's recorded augmentation and normalization
(inrzoo.store.frames). The metric is the
ShapeNet-Part mIoU: logits restricted to the parts of the shape's class, per-shape IoU averaged
over that class's parts (a part absent from both prediction and ground truth counts as 1),
then averaged over shapes (instance mIoU) and over classes (class mIoU).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as _field
from typing import Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inrzoo.store import WeightDataset
from inrzoo.store.frames import to_inr_frame
from inrzoo.zoo.components.implicit_decoder import DecoderConfig, ImplicitDecoder
from inrzoo.zoo.core.model import Encoder
from inrzoo.zoo.core.tasks import Task, TaskContext, TaskOutcome
from inrzoo.zoo.tasks.embedding import embed_split
from inrzoo.zoo.tasks.training import fit_minibatches, one_cycle

ClassParts = Mapping[int, Sequence[int]]  # class id -> its part ids


@dataclass
class SegmentationConfig:
    """Part segmentation: the implicit decoder with the one-hot class appended to the embedding."""

    decoder: DecoderConfig = _field(default_factory=DecoderConfig)
    lr: float = 1e-4
    weight_decay: float = 1e-2
    epochs: int = 250
    batch_size: int = 256
    seed: int = 0


@dataclass
class SegmentationSettings:
    segmentation: SegmentationConfig = _field(default_factory=SegmentationConfig)
    points_per_shape: int = 2048  # labelled points drawn per shape
    batch_size: int = 64


class SegmentationDecoder(nn.Module):
    """(embeddings [B, E], class ids [B], points [B, N, 3]) -> part logits [B, N, num_parts]."""

    def __init__(self, embedding_dim: int, num_classes: int, num_parts: int, config: DecoderConfig | None = None) -> None:
        super().__init__()
        self.decoder = ImplicitDecoder(embedding_dim + num_classes, config, out_dim=num_parts)
        self.num_classes = num_classes
        self.num_parts = num_parts

    def forward(self, embeddings: Tensor, class_ids: Tensor, points: Tensor) -> Tensor:
        one_hot = F.one_hot(class_ids.long(), self.num_classes).to(embeddings.dtype)
        out = self.decoder(torch.cat([embeddings, one_hot], dim=1), points)
        return out.unsqueeze(-1) if self.num_parts == 1 else out


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


@dataclass
class PartLabels:
    """Labelled points of a view's rows, in view order: points [B, N, 3] (INR frame), labels [B, N]."""

    rows: np.ndarray  # dataset row numbers
    points: Tensor
    labels: Tensor

    def for_rows(self, rows: Tensor | np.ndarray) -> tuple[Tensor, Tensor]:
        where = {int(r): i for i, r in enumerate(self.rows)}
        pick = torch.as_tensor([where[int(r)] for r in rows])
        return self.points[pick], self.labels[pick]


def has_part_labels(view: WeightDataset) -> bool:
    records = view.get_records(range(len(view)), with_params=False)
    return bool(records) and all("part_ids" in r.meta for r in records)


def part_labels(view: WeightDataset, points_per_shape: int, seed: int = 0) -> PartLabels:
    """`points_per_shape` labelled points per row, drawn with `seed`, in each INR's frame."""
    from inrzoo.collections.shapenetpart import read_part_points

    if not has_part_labels(view):
        raise ValueError(f"{view.uri}: part segmentation needs rows with part labels (a shapenetpart listing)")
    records = view.get_records(range(len(view)), with_params=False)
    rng = np.random.default_rng(seed)
    points, labels = [], []
    for record in records:
        part = read_part_points(record.source_uri, **view.location.storage_options)
        pick = rng.choice(len(part.points), points_per_shape, replace=len(part.points) < points_per_shape)
        pts = to_inr_frame(part.points[pick], record.transform, record.meta)
        points.append(torch.as_tensor(pts, dtype=torch.float32))
        labels.append(torch.as_tensor(part.parts[pick], dtype=torch.long))
    return PartLabels(view.rows.copy(), torch.stack(points), torch.stack(labels))


def label_space(*splits: tuple[Tensor, Tensor]) -> tuple[int, int, dict[int, list[int]]]:
    """(classes, parts, parts per class) seen in (class ids [B], part labels [B, N]) pairs."""
    classes = torch.cat([s[0] for s in splits])
    parts = torch.cat([s[1] for s in splits])
    return int(classes.max()) + 1, int(parts.max()) + 1, class_parts_from_labels(classes, parts)


class SegmentationTask(Task):
    name = "segmentation"
    config_class = SegmentationSettings
    requires = (Encoder,)

    def run(self, ctx: TaskContext, cfg: SegmentationSettings) -> TaskOutcome:
        """Train the segmentation decoder on the train split's embeddings; ShapeNet-Part mIoU on test."""
        data = {}
        for split, seed in (("train", 0), ("test", 1)):
            view = ctx.data.views[split]
            labelled = part_labels(view, cfg.points_per_shape, seed)
            embedded = embed_split(ctx.model, view, cfg.batch_size)
            data[split] = (embedded.embeddings, embedded.labels, labelled.points, labelled.labels)
        train, test = data["train"], data["test"]
        num_classes, num_parts, class_parts = label_space((train[1], train[3]), (test[1], test[3]))
        seg, _ = train_segmentation(*train, num_classes, num_parts, cfg.segmentation, class_parts)
        pred = predict_parts(seg, test[0], test[1], test[2], class_parts)
        miou = part_miou(pred, test[3], test[1], class_parts)
        return TaskOutcome({f"segmentation_{k}": v for k, v in miou.items()})
