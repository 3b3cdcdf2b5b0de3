"""Evaluation of a trained inr2vec on a weight dataset's splits: the numbers a run logs.

- `embed_view`: embeddings, labels and (optionally) flattened raw weights of a split, streamed.
- `classification_metrics`: the thesis classifier on train embeddings, accuracy on the held-out
  split; with a raw-weight baseline (the same classifier on the flattened weights) and chance.
- `retrieval_metrics`: mAP@1/5/10 and recall@k over the held-out split (the query and its own
  augmented copies left out of the gallery).
- `reconstruction_metrics`: Chamfer / F-score of decoded shapes against their input INRs.
- `plot_artifacts`: the interpolation strip between two held-out shapes and the t-SNE map.
- `evaluate_model`: all of the above, as one dict of floats plus the PNG paths.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from inrzoo.store import WeightDataset
from inrzoo.zoo.inr2vec.config import ClassifierConfig
from inrzoo.zoo.inr2vec.evaluate import reconstruction_quality
from inrzoo.zoo.inr2vec.job_config import EvaluationSection
from inrzoo.zoo.inr2vec.model import Inr2vec
from inrzoo.zoo.inr2vec.plots import interpolation_strip, tsne_plot
from inrzoo.zoo.inr2vec.retrieval import retrieval_task
from inrzoo.zoo.inr2vec.splits import source_groups
from inrzoo.zoo.inr2vec.tasks import classification_task
from inrzoo.zoo.inr2vec.train import embed


@dataclass
class SplitData:
    embeddings: Tensor  # [N, D]
    labels: Tensor  # [N] int64, -1 = unlabeled
    flat: Tensor | None = None  # [N, P] raw weights in canonical order
    groups: Tensor | None = None  # [N] source-shape codes: a row and its augmented copies share one

    def __len__(self) -> int:
        return len(self.labels)


@torch.no_grad()
def embed_view(model: Inr2vec, view: WeightDataset, batch_size: int = 64, with_flat: bool = False) -> SplitData:
    """One pass over `view` in batches: embeddings, labels and, if asked, the flattened weights."""
    if len(view) == 0:
        return SplitData(torch.zeros(0, model.embedding_dim), torch.zeros(0, dtype=torch.long),
                         None if not with_flat else torch.zeros(0, 0))
    batches = list(view.loader(batch_size, flat=with_flat))
    return SplitData(embed(model, batches), torch.cat([b["label"] for b in batches]),
                     torch.cat([b["flat"] for b in batches]) if with_flat else None, source_groups(view))


def chance_accuracy(train_labels: Tensor, test_labels: Tensor) -> float:
    """Accuracy of always answering the most frequent training class."""
    majority = int(torch.bincount(train_labels).argmax())
    return float((test_labels == majority).float().mean())


def reading(cfg: ClassifierConfig, width: int) -> ClassifierConfig:
    """The classifier with its first stage sized to the input (embeddings or raw weights)."""
    return dataclasses.replace(cfg, layers_dim=[width, *cfg.layers_dim[1:]])


def classification_metrics(train: SplitData, test: SplitData, num_classes: int, cfg: ClassifierConfig,
                           val: SplitData | None = None, raw_weights: bool = False) -> dict[str, float]:
    """Held-out accuracy of the classifier on embeddings (and on raw weights), next to chance."""
    val_x, val_y = (val.embeddings, val.labels) if val is not None and len(val) else (None, None)
    emb = classification_task(train.embeddings, train.labels, test.embeddings, test.labels, num_classes,
                              reading(cfg, train.embeddings.shape[1]), val_x, val_y)
    metrics = {"accuracy": emb["test_accuracy"], "train_accuracy": emb["train_accuracy"],
               "chance_accuracy": chance_accuracy(train.labels, test.labels)}
    if raw_weights:
        if train.flat is None or test.flat is None:
            raise ValueError("the raw-weight baseline needs splits embedded with with_flat=True")
        mean, std = train.flat.mean(0), train.flat.std(0).clamp_min(1e-6)  # standardized like the embeddings' BatchNorm input
        val_raw = ((val.flat - mean) / std, val.labels) if val is not None and len(val) and val.flat is not None else (None, None)
        raw = classification_task((train.flat - mean) / std, train.labels, (test.flat - mean) / std, test.labels,
                                  num_classes, reading(cfg, train.flat.shape[1]), *val_raw)
        metrics["raw_weights_accuracy"] = raw["test_accuracy"]
    return metrics


def retrieval_metrics(split: SplitData, prefix: str = "") -> dict[str, float]:
    return {f"{prefix}{k}": v for k, v in retrieval_task(split.embeddings, split.labels, groups=split.groups).items()}


def reconstruction_metrics(model: Inr2vec, view: WeightDataset, cfg: EvaluationSection) -> dict[str, float]:
    """Decoded vs input INR surfaces on the first `cfg.reconstruction_shapes` rows of `view`."""
    n = min(cfg.reconstruction_shapes, len(view))
    if n == 0:
        return {}
    group, rows = view.group_rows(range(n))
    params = view.read_params(rows, group)
    scores = reconstruction_quality(model, params, view.architecture(group).forward, resolution=cfg.mesh_resolution,
                                    n_points=cfg.chamfer_points, threshold=cfg.fscore_threshold)
    return {f"reconstruction_{k}": v for k, v in scores.items()}


def plot_artifacts(model: Inr2vec, split: SplitData, out_dir: Path, class_names: list[str],
                   resolution: int = 64) -> list[Path]:
    """interpolation.png between the first two held-out shapes of different classes (or the first
    two), and tsne.png of the held-out embeddings (needs 3+ of them)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    if len(split) >= 2:
        other = next((i for i in range(1, len(split)) if split.labels[i] != split.labels[0]), 1)
        paths.append(interpolation_strip(model, split.embeddings[0], split.embeddings[other],
                                         out_dir / "interpolation.png", resolution=resolution))
    if len(split) >= 3:
        perplexity = float(min(30.0, (len(split) - 1) / 3))
        paths.append(tsne_plot(split.embeddings, split.labels, out_dir / "tsne.png", class_names or None,
                               perplexity=perplexity))
    return paths


def evaluate_model(model: Inr2vec, views: dict[str, WeightDataset], cfg: EvaluationSection,
                   out_dir: Path) -> tuple[dict[str, float], list[Path]]:
    """Every evaluation of a training run on its splits; returns (metrics, PNG paths)."""
    model = model.eval()
    class_names = list(views["train"].label_names)
    raw = cfg.raw_weight_baseline
    data = {name: embed_view(model, view, cfg.batch_size, with_flat=raw) for name, view in views.items()}
    metrics: dict[str, float] = {"test_inrs": float(len(data["test"]))}
    labeled = len(data["test"]) >= 2 and bool((data["train"].labels >= 0).all()) and bool((data["test"].labels >= 0).all())
    if labeled:
        num_classes = max(len(class_names), int(torch.cat([data["train"].labels, data["test"].labels]).max()) + 1)
        metrics.update(classification_metrics(data["train"], data["test"], num_classes, cfg.classifier,
                                              data.get("val"), raw_weights=raw))
        metrics.update(retrieval_metrics(data["test"]))
        if raw:  # the same ranking on the raw weights (standardized with the train statistics)
            train_flat = data["train"].flat
            scaled = (data["test"].flat - train_flat.mean(0)) / train_flat.std(0).clamp_min(1e-6)
            metrics.update(retrieval_metrics(SplitData(scaled, data["test"].labels, groups=data["test"].groups),
                                             prefix="raw_weights_"))
    metrics.update(reconstruction_metrics(model, views["test"], cfg))
    paths = plot_artifacts(model, data["test"], out_dir, class_names, cfg.mesh_resolution) if cfg.plots else []
    return metrics, paths
