"""Tasks that need part labels: part segmentation (thesis C.5) and the multi-task variant of
Costain & Prisacariu, on weight datasets converted from ShapeNetPart-style listings.

Part labels stay in the source files; a row's meta names the parts of its class (`part_ids`)
and its source URI leads to the labelled points. Those points are brought into the INR's
frame with the row's recorded augmentation scaling (copies) and normalization.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from inrzoo.collections.shapenetpart import read_part_points
from inrzoo.store import WeightDataset
from inrzoo.store.frames import to_inr_frame
from inrzoo.zoo.inr2vec.config import MultiTaskConfig, SegmentationConfig
from inrzoo.zoo.inr2vec.downstream import embed_view
from inrzoo.zoo.inr2vec.model import Inr2vec, make_optimizer
from inrzoo.zoo.inr2vec.multitask import (MultiTaskInr2vec, Task, TaskBatch, holdout_config, holdout_evaluation,
                                          train_multitask_epoch)
from inrzoo.zoo.inr2vec.segmentation import class_parts_from_labels, part_miou, predict_parts, train_segmentation
from inrzoo.zoo.inr2vec.tasks import accuracy


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
    if not has_part_labels(view):
        raise ValueError(f"{view.uri}: part segmentation needs rows with part labels (a shapenetpart listing)")
    records = view.get_records(range(len(view)), with_params=False)
    storage_options = view.location.storage_options
    rng = np.random.default_rng(seed)
    points, labels = [], []
    for record in records:
        part = read_part_points(record.source_uri, **storage_options)
        pick = rng.choice(len(part.points), points_per_shape, replace=len(part.points) < points_per_shape)
        pts = to_inr_frame(part.points[pick], record.transform, record.meta)
        points.append(torch.as_tensor(np.asarray(pts), dtype=torch.float32))
        labels.append(torch.as_tensor(part.parts[pick], dtype=torch.long))
    return PartLabels(view.rows.copy(), torch.stack(points), torch.stack(labels))


def segmentation_task(model: Inr2vec, views: dict[str, WeightDataset], cfg: SegmentationConfig,
                      points_per_shape: int = 2048) -> dict[str, float]:
    """Train the segmentation decoder on the train split's embeddings; ShapeNet-Part mIoU on test."""
    data = {}
    for split, seed in (("train", 0), ("test", 1)):
        labelled = part_labels(views[split], points_per_shape, seed)
        embedded = embed_view(model, views[split])
        data[split] = (embedded.embeddings, embedded.labels, labelled.points, labelled.labels)
    train, test = data["train"], data["test"]
    num_classes, num_parts, class_parts = _label_space(train, test)
    seg, _ = train_segmentation(*train, num_classes, num_parts, cfg, class_parts)
    pred = predict_parts(seg, test[0], test[1], test[2], class_parts)
    return {f"segmentation_{k}": v for k, v in part_miou(pred, test[3], test[1], class_parts).items()}


def _label_space(*splits) -> tuple[int, int, dict[int, list[int]]]:
    classes = torch.cat([s[1] for s in splits])
    parts = torch.cat([s[3] for s in splits])
    return int(classes.max()) + 1, int(parts.max()) + 1, class_parts_from_labels(classes, parts)


def task_batches(view: WeightDataset, batch_size: int, seed: int, parts: PartLabels | None = None) -> Iterator[TaskBatch]:
    """Shuffled TaskBatches streamed from `view` (class ids, and part labels where given)."""
    order = torch.Generator().manual_seed(seed)
    batch_size = max(2, min(batch_size, len(view)))  # a split smaller than one batch is one batch
    for b in view.loader(batch_size, shuffle=True, drop_last=True, generator=order):
        points, labels = parts.for_rows(b["row"]) if parts is not None else (None, None)
        yield TaskBatch(b["params"], b["label"], points, labels)


def whole_view(view: WeightDataset, parts: PartLabels | None = None) -> TaskBatch:
    group, rows = view.group_rows(range(len(view)))
    labels = torch.as_tensor(view.columns["label"][view.rows].astype(np.int64))
    points, part_ids = (parts.points, parts.labels) if parts is not None else (None, None)
    return TaskBatch(view.read_params(rows, group), labels, points, part_ids)


def multitask_task(model: Inr2vec, views: dict[str, WeightDataset], cfg: MultiTaskConfig, epochs: int,
                   holdout: Task | None = None, points_per_shape: int = 2048) -> dict[str, float]:
    """Costain & Prisacariu from `model`'s weights: reconstruction trained jointly with
    classification and, where the dataset has part labels, segmentation. With `holdout`, that
    task is switched off in training and its head is trained afterwards on the frozen encoder."""
    train, test = views["train"], views["test"]
    labelled = has_part_labels(train) and has_part_labels(test)
    if holdout == "segmentation" and not labelled:
        raise ValueError(f"{train.uri}: holding out segmentation needs rows with part labels")
    parts = {s: part_labels(views[s], points_per_shape, seed) for s, seed in (("train", 0), ("test", 1))} if labelled else {}
    train_all, test_all = whole_view(train, parts.get("train")), whole_view(test, parts.get("test"))
    num_classes = len(train.label_names)
    num_parts, class_parts = 1, None
    if labelled:
        _, num_parts, class_parts = _label_space(*((b.params, b.class_ids, b.part_points, b.part_labels)
                                                   for b in (train_all, test_all)))
    else:
        cfg = dataclasses.replace(cfg, segmentation_weight=0.0)
    cfg = holdout_config(cfg, holdout) if holdout else cfg
    mt = MultiTaskInr2vec(model.train(), num_classes, num_parts, config=cfg)
    optimizer = make_optimizer(mt, model.config.optimizer.lr, model.config.optimizer.weight_decay)
    forward = train.architecture().forward
    stats: dict[str, float] = {}
    for epoch in range(epochs):
        stats = train_multitask_epoch(mt, task_batches(train, model.config.batch_size, epoch, parts.get("train")),
                                      optimizer, forward, generator=torch.Generator().manual_seed(epoch))
    if holdout:
        result = holdout_evaluation(mt.model, holdout, train_all, test_all, num_classes, cfg, num_parts, class_parts)
        if holdout == "segmentation":
            result = {f"segmentation_{k}": v for k, v in result.items()}
    else:
        mt.eval()
        with torch.no_grad():
            embeddings = mt.model.encode(test_all.params)
            result = {"test_accuracy": accuracy(mt.classifier, embeddings, test_all.class_ids)}
            if labelled:
                pred = predict_parts(mt.segmenter, embeddings, test_all.class_ids, test_all.part_points, class_parts)
                miou = part_miou(pred, test_all.part_labels, test_all.class_ids, class_parts)
                result.update({f"segmentation_{k}": v for k, v in miou.items()})
    return {f"multitask_{k}": float(v) for k, v in {**result, **stats}.items()}
