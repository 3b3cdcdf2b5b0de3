"""inr2vec's own task `multitask`: Costain & Prisacariu's multi-task training from a trained inr2vec.

Reconstruction is trained jointly with classification and, where the dataset has part labels,
segmentation (multitask.py). With `holdout`, that task is switched off in training and its head
is trained afterwards on the frozen encoder (their hold-out protocol).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator

import numpy as np
import torch

from inrzoo.store import WeightDataset
from inrzoo.zoo.core.model import StepContext
from inrzoo.zoo.core.tasks import Task, TaskContext, TaskOutcome
from inrzoo.zoo.inr2vec.config import MultiTaskConfig
from inrzoo.zoo.inr2vec.model import Inr2vec
from inrzoo.zoo.inr2vec.multitask import (MultiTaskInr2vec, TaskBatch, holdout_config, holdout_evaluation,
                                          train_multitask_epoch)
from inrzoo.zoo.tasks.classification import accuracy
from inrzoo.zoo.tasks.segmentation import PartLabels, has_part_labels, label_space, part_labels, part_miou, predict_parts


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


def multitask_task(model: Inr2vec, views: dict[str, WeightDataset], cfg: MultiTaskConfig) -> dict[str, float]:
    """Multi-task training from `model`'s weights (a copy: the given model is left as it is)."""
    train, test = views["train"], views["test"]
    holdout = cfg.holdout or None
    labelled = has_part_labels(train) and has_part_labels(test)
    if holdout == "segmentation" and not labelled:
        raise ValueError(f"{train.uri}: holding out segmentation needs rows with part labels")
    parts = {s: part_labels(views[s], cfg.points_per_shape, seed) for s, seed in (("train", 0), ("test", 1))} if labelled else {}
    train_all, test_all = whole_view(train, parts.get("train")), whole_view(test, parts.get("test"))
    num_classes = len(train.label_names)
    num_parts, class_parts = 1, None
    if labelled:
        _, num_parts, class_parts = label_space((train_all.class_ids, train_all.part_labels),
                                                (test_all.class_ids, test_all.part_labels))
    else:
        cfg = dataclasses.replace(cfg, segmentation_weight=0.0)
    cfg = holdout_config(cfg, holdout) if holdout else cfg
    mt = MultiTaskInr2vec(copy.deepcopy(model).train(), num_classes, num_parts, config=cfg)
    optimizer = torch.optim.AdamW([p for p in mt.parameters() if p.requires_grad], lr=cfg.lr, weight_decay=cfg.weight_decay)
    stats: dict[str, float] = {}
    for epoch in range(cfg.epochs):
        step = StepContext(torch.device("cpu"), torch.Generator().manual_seed(epoch), epoch)
        stats = train_multitask_epoch(mt, task_batches(train, cfg.batch_size, epoch, parts.get("train")), optimizer, step)
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


class MultitaskTask(Task):
    name = "multitask"
    config_class = MultiTaskConfig
    requires = (Inr2vec,)

    def run(self, ctx: TaskContext, cfg: MultiTaskConfig) -> TaskOutcome:
        return TaskOutcome(multitask_task(ctx.model, ctx.data.views, cfg))
