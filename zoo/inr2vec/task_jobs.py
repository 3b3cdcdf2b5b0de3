"""Downstream tasks of a trained inr2vec on a weight dataset, one library function each
(the `jobs/inr2vec_tasks.py` subcommands call them). Each returns plain floats for MLflow and
writes its files (PNGs, meshes) under `out_dir`.

Model sources: a registered model (`models:/NAME@ALIAS`, rebuilt from code, no pickle), or a
safetensors file of `save_inr2vec` / a training checkpoint folder's model.safetensors.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from inrzoo.store import WeightDataset
from inrzoo.zoo.inr2vec.checkpoint import load_inr2vec
from inrzoo.zoo.inr2vec.config import GanConfig, MultiTaskConfig, SegmentationConfig, TransferConfig
from inrzoo.zoo.inr2vec.downstream import embed_view
from inrzoo.zoo.inr2vec.evaluate import decode_meshes
from inrzoo.zoo.inr2vec.generation import sample_embeddings, train_latent_gan
from inrzoo.zoo.inr2vec.model import Inr2vec, make_optimizer
from inrzoo.zoo.inr2vec.multitask import MultiTaskInr2vec, TaskBatch, holdout_config, holdout_evaluation, train_multitask_epoch
from inrzoo.zoo.inr2vec.splits import with_rows
from inrzoo.zoo.inr2vec.segmentation import class_parts_from_labels, part_miou, predict_parts, train_segmentation
from inrzoo.zoo.inr2vec.tasks import train_transfer, transfer_embeddings, transfer_mse


def load_model(source: str, **storage_options) -> Inr2vec:
    """An Inr2vec from `models:/...` (MLflow registry) or a safetensors URI (eval mode)."""
    if source.startswith("models:/"):
        import mlflow

        return mlflow.pyfunc.load_model(source).unwrap_python_model().model.eval()
    return load_inr2vec(source, **storage_options)[0]


def generation_task(model: Inr2vec, train: WeightDataset, cfg: GanConfig, out_dir: Path, samples: int = 8,
                    resolution: int = 64) -> dict[str, float]:
    """Latent-GAN on the train embeddings; `samples` generated codes decoded to meshes (PLY files)."""
    embeddings = embed_view(model, train).embeddings
    generator, _, history = train_latent_gan(embeddings, cfg)
    codes = sample_embeddings(generator, samples, cfg, seed=cfg.seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    decoded = 0
    for i, mesh in enumerate(decode_meshes(model, codes, resolution)):
        if mesh is not None and len(mesh.faces):
            mesh.export(out_dir / f"generated_{i:03d}.ply")
            decoded += 1
    # How close generated codes lie to real ones, relative to real codes' own spacing.
    nearest = torch.cdist(codes, embeddings).min(1).values.mean()
    spacing = torch.cdist(embeddings, embeddings).fill_diagonal_(float("inf")).min(1).values.mean()
    return {"gan_critic_loss": history["loss_d"][-1], "gan_generator_loss": history["loss_g"][-1],
            "generated_meshes": float(decoded), "generated_nearest_ratio": float(nearest / spacing)}


def transfer_task(source: Inr2vec, source_views: dict[str, WeightDataset], target: Inr2vec,
                  target_views: dict[str, WeightDataset], cfg: TransferConfig) -> dict[str, float]:
    """Map embeddings of one space onto another for the same shapes (rows paired by id)."""
    pairs = {}
    for split in ("train", "test"):
        a, b = source_views[split], target_views[split]
        ids_a, ids_b = list(a.columns["id"][a.rows]), list(b.columns["id"][b.rows])
        common = [i for i in ids_a if i in set(ids_b)]
        if len(common) < 2:
            raise ValueError(f"{a.uri} and {b.uri}: fewer than 2 shared ids in the {split} split")
        rows_a = a.rows[[ids_a.index(i) for i in common]]
        rows_b = b.rows[[ids_b.index(i) for i in common]]
        pairs[split] = (embed_view(source, with_rows(a, rows_a)).embeddings,
                        embed_view(target, with_rows(b, rows_b)).embeddings)
    net, _ = train_transfer(*pairs["train"], cfg)
    test_src, test_tgt = pairs["test"]
    predicted = transfer_embeddings(net, test_src)
    # Top-1 matching: the transferred code's nearest target code is its own shape's.
    hits = (torch.cdist(predicted, test_tgt).argmin(1) == torch.arange(len(test_tgt))).float().mean()
    return {"transfer_mse": transfer_mse(net, test_src, test_tgt), "transfer_top1": float(hits)}


def part_data(model: Inr2vec, view: WeightDataset, points_per_shape: int, seed: int = 0):
    """(embeddings, class ids, points in the INRs' frame, part labels) of rows with part labels."""
    from inrzoo.collections.shapenetpart import read_part_points
    from inrzoo.geometry import Similarity

    records = view.get_records(range(len(view)), with_params=False)
    if not records or any("part_ids" not in r.meta for r in records):
        raise ValueError(f"{view.uri}: part segmentation needs rows with part labels (a shapenetpart listing)")
    rng = np.random.default_rng(seed)
    points, parts = [], []
    for record in records:
        part = read_part_points(record.source_uri)
        pick = rng.choice(len(part.points), points_per_shape, replace=len(part.points) < points_per_shape)
        frame = Similarity.from_dict(record.transform) if record.transform else None
        pts = part.points[pick] if frame is None else frame.apply(part.points[pick])
        points.append(torch.as_tensor(pts, dtype=torch.float32))
        parts.append(torch.as_tensor(part.parts[pick], dtype=torch.long))
    data = embed_view(model, view)
    return data.embeddings, data.labels, torch.stack(points), torch.stack(parts)


def segmentation_task(model: Inr2vec, views: dict[str, WeightDataset], cfg: SegmentationConfig,
                      points_per_shape: int = 2048) -> dict[str, float]:
    train, test = (part_data(model, views[s], points_per_shape, seed) for s, seed in (("train", 0), ("test", 1)))
    num_classes = int(max(train[1].max(), test[1].max())) + 1
    num_parts = int(max(train[3].max(), test[3].max())) + 1
    class_parts = class_parts_from_labels(torch.cat([train[1], test[1]]), torch.cat([train[3], test[3]]))
    seg, _ = train_segmentation(*train, num_classes, num_parts, cfg, class_parts)
    pred = predict_parts(seg, test[0], test[1], test[2], class_parts)
    return {f"segmentation_{k}": v for k, v in part_miou(pred, test[3], test[1], class_parts).items()}


def task_batches(view: WeightDataset, batch_size: int, seed: int) -> list[TaskBatch]:
    """Classification TaskBatches streamed from `view` (labels as class ids)."""
    order = torch.Generator().manual_seed(seed)
    batch_size = max(2, min(batch_size, len(view)))  # a split smaller than one batch is one batch
    return [TaskBatch(b["params"], b["label"]) for b in view.loader(batch_size, shuffle=True, drop_last=True,
                                                                      generator=order)]


def multitask_task(model: Inr2vec, views: dict[str, WeightDataset], cfg: MultiTaskConfig, epochs: int,
                   holdout: bool = False) -> dict[str, float]:
    """Costain & Prisacariu: reconstruction trained jointly with classification, from `model`'s
    weights; with `holdout`, classification is switched off in training and its head is trained
    afterwards on the frozen encoder (the hold-out protocol)."""
    train, test = views["train"], views["test"]
    num_classes = len(train.label_names)
    cfg = holdout_config(cfg, "classification") if holdout else cfg
    mt = MultiTaskInr2vec(model.train(), num_classes, num_parts=1, config=dataclasses.replace(cfg, segmentation_weight=0.0))
    optimizer = make_optimizer(mt, model.config.optimizer.lr, model.config.optimizer.weight_decay)
    forward = train.architecture().forward
    stats: dict[str, float] = {}
    for epoch in range(epochs):
        stats = train_multitask_epoch(mt, task_batches(train, model.config.batch_size, epoch), optimizer, forward,
                                      generator=torch.Generator().manual_seed(epoch))
    train_all = _whole(train)
    test_all = _whole(test)
    if holdout:
        result = holdout_evaluation(mt.model, "classification", train_all, test_all, num_classes, cfg)
    else:
        from inrzoo.zoo.inr2vec.tasks import accuracy

        mt.eval()
        with torch.no_grad():
            result = {"test_accuracy": accuracy(mt.classifier, mt.model.encode(test_all.params), test_all.class_ids)}
    return {f"multitask_{k}": float(v) for k, v in {**result, **stats}.items()}


def _whole(view: WeightDataset) -> TaskBatch:
    group, rows = view.group_rows(range(len(view)))
    labels = torch.as_tensor(view.columns["label"][view.rows].astype(np.int64))
    return TaskBatch(view.read_params(rows, group), labels)

