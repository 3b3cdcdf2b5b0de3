"""The methods of benchmarks/weightspace_kicad.py, each trained on the train split (model selection
on val) and scored on the test split: accuracy, and retrieval mAP@1/5/10 over the test split with
each query's own augmented copy left out of the gallery (`retrieval`).

What each retrieves with: raw weights and inr2vec rank by L2 between their unsupervised vectors
(standardized weights, embeddings); PointNet and the NFN, trained only as classifiers, rank by
their last hidden layer (a supervised feature: marked in the table).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

import torch
from torch import nn

from inrzoo.zoo.inr2vec import Inr2vec, Inr2vecConfig
from inrzoo.zoo.inr2vec.config import ClassifierConfig
from inrzoo.zoo.inr2vec.downstream import reading
from inrzoo.zoo.inr2vec.evaluate import reconstruction_quality
from inrzoo.zoo.inr2vec.head_training import minibatch_indices
from inrzoo.zoo.inr2vec.model import make_optimizer
from inrzoo.zoo.inr2vec.retrieval import retrieval_task
from inrzoo.zoo.inr2vec.tasks import classification_task
from inrzoo.zoo.inr2vec.train import train_step
from inrzoo.zoo.weightspace.nfn import InvariantNFN, LayerStandardizer, NFNConfig, features_from_params, layer_sizes
from inrzoo.zoo.weightspace.pointnet import PointNet, PointNetConfig
from inrzoo.zoo.weightspace.training import TrainConfig, accuracy, take, train_classifier

from weightspace_inputs import Split

log = logging.getLogger("weightspace_kicad.methods")


def retrieval(features: torch.Tensor, split: Split) -> dict[str, float]:
    scores = retrieval_task(features.float(), split.labels, groups=split.groups)
    return {k: scores[k] for k in ("map@1", "map@5", "map@10")}


def _timed(fn):
    def run(*args, **kwargs) -> dict[str, Any]:
        start = time.process_time(), time.time()
        result = fn(*args, **kwargs)
        result["cpu_seconds"] = round(time.process_time() - start[0])
        result["wall_seconds"] = round(time.time() - start[1])
        return result
    return run


@torch.no_grad()
def _penultimate(model: nn.Module, head: nn.Sequential, features_of, data: Any, batch: int = 256) -> torch.Tensor:
    """The last hidden layer of a classifier (head without its class layer), eval mode."""
    model.eval()
    n = len(data) if isinstance(data, torch.Tensor) else len(data[0][0])
    return torch.cat([head[:-1](features_of(take(data, torch.arange(s, min(s + batch, n))))) for s in range(0, n, batch)])


def hidden_layer_columns(arch) -> torch.Tensor:
    """Columns of the flattened weights that belong to the hidden-to-hidden layers (what inr2vec's
    "hidden" input reads: every weight and bias but the first and the last layer's)."""
    shapes = list(arch.param_shapes().items())
    sizes = [int(torch.Size(shape).numel()) for _, shape in shapes]
    starts = torch.cumsum(torch.tensor([0] + sizes), 0)
    keep = [torch.arange(starts[i], starts[i + 1]) for i in range(2, len(shapes) - 2)]
    return torch.cat(keep)


@_timed
def raw_weights_mlp(splits: dict[str, Split], num_classes: int, classifier: ClassifierConfig,
                    columns: torch.Tensor | None = None, standardize: bool = True) -> dict[str, Any]:
    """The thesis classifier on the flattened weights (or the given `columns` of them), each weight
    standardized over the train rows (or, with standardize=False, as stored)."""
    flat = {k: s.flat if columns is None else s.flat[:, columns] for k, s in splits.items()}
    mean, std = flat["train"].mean(0), flat["train"].std(0).clamp_min(1e-6)
    if not standardize:
        mean, std = torch.zeros_like(mean), torch.ones_like(std)
    x = {k: (v - mean) / std for k, v in flat.items()}
    result = classification_task(x["train"], splits["train"].labels, x["test"], splits["test"].labels, num_classes,
                                 reading(classifier, x["train"].shape[1]), x["val"], splits["val"].labels)
    return {"accuracy": result["test_accuracy"], **retrieval(x["test"], splits["test"]),
            "best_val_accuracy": result.get("best_val_accuracy")}


@_timed
def pointnet(splits: dict[str, Split], num_classes: int, train: TrainConfig, n_points: int) -> dict[str, Any]:
    torch.manual_seed(train.seed)
    model = PointNet(num_classes, PointNetConfig())
    pts = {k: s.points[:, :n_points] for k, s in splits.items()}
    history = train_classifier(model, pts["train"], splits["train"].labels, pts["val"], splits["val"].labels, train,
                               extra_loss=model.regularization, name="pointnet")
    features = _penultimate(model, model.head, model.global_feature, pts["test"])
    return {"accuracy": accuracy(model, pts["test"], splits["test"].labels), **retrieval(features, splits["test"]),
            "best_val_accuracy": max(history["val_accuracy"])}


@_timed
def nfn(splits: dict[str, Split], num_classes: int, arch, train: TrainConfig, config: NFNConfig) -> dict[str, Any]:
    shapes = arch.param_shapes()
    raw = {k: features_from_params(s.params, shapes) for k, s in splits.items()}
    standardize = LayerStandardizer(raw["train"])
    feats = {k: standardize(v) for k, v in raw.items()}
    torch.manual_seed(train.seed)
    model = InvariantNFN(layer_sizes(shapes), num_classes, config)
    history = train_classifier(model, feats["train"], splits["train"].labels, feats["val"], splits["val"].labels,
                               train, name="nfn")
    features = _penultimate(model, model.head, model.pooled, feats["test"])
    return {"accuracy": accuracy(model, feats["test"], splits["test"].labels), **retrieval(features, splits["test"]),
            "best_val_accuracy": max(history["val_accuracy"])}


@dataclasses.dataclass
class Inr2vecBudget:
    config: Inr2vecConfig
    epochs: int
    classifier: ClassifierConfig
    reconstruction_shapes: int = 16
    mesh_resolution: int = 64
    train_rows: str = "all"  # "all" (originals and augmented copies) or "originals"


@_timed
def inr2vec(splits: dict[str, Split], num_classes: int, arch, budget: Inr2vecBudget) -> dict[str, Any]:
    train = splits["train"]
    rows = torch.arange(len(train))
    if budget.train_rows == "originals":
        rows = torch.as_tensor([i for i, row_id in enumerate(train.view.columns["id"][train.view.rows])
                                if "#aug" not in str(row_id)])
    params = {n: p[rows] for n, p in train.params.items()}
    torch.manual_seed(budget.config.seed)
    model = Inr2vec(arch.param_shapes(), budget.config)
    if budget.config.encoder.input_normalization == "standardize":
        model.fit_input_normalization(params)
    optimizer = make_optimizer(model, budget.config.optimizer.lr, budget.config.optimizer.weight_decay)
    generator = torch.Generator().manual_seed(budget.config.seed)
    losses = []
    for epoch in range(budget.epochs):
        total = [train_step(model, take(params, idx), optimizer, arch.forward, generator)
                 for idx in minibatch_indices(len(rows), budget.config.batch_size, generator=generator, min_size=2)]
        losses.append(sum(total) / len(total))
        log.info("inr2vec epoch %d/%d: reconstruction loss %.4f", epoch + 1, budget.epochs, losses[-1])
    model.eval()
    with torch.no_grad():
        emb = {k: torch.cat([model.encode(take(s.params, idx)) for idx in minibatch_indices(len(s), 256, shuffle=False)])
               for k, s in splits.items()}
    result = classification_task(emb["train"], train.labels, emb["test"], splits["test"].labels, num_classes,
                                 reading(budget.classifier, emb["train"].shape[1]), emb["val"], splits["val"].labels)
    scores = {"accuracy": result["test_accuracy"], **retrieval(emb["test"], splits["test"]),
              "best_val_accuracy": result.get("best_val_accuracy"),
              "train_loss_first_last": [losses[0], losses[-1]] if losses else []}
    n = min(budget.reconstruction_shapes, len(splits["test"]))
    if n:  # Chamfer-L1 / F-score (threshold 0.01) of decoded vs input INR surfaces, marching cubes on both
        recon = reconstruction_quality(model, take(splits["test"].params, torch.arange(n)), arch.forward,
                                       resolution=budget.mesh_resolution)
        scores.update({f"reconstruction_{k}": recon[k] for k in ("chamfer", "fscore", "scored")})
    return scores


def chance(splits: dict[str, Split]) -> dict[str, Any]:
    majority = int(torch.bincount(splits["train"].labels).argmax())
    return {"accuracy": float((splits["test"].labels == majority).float().mean())}
