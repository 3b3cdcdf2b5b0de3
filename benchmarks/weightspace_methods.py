"""The methods of benchmarks/weightspace_kicad.py, each trained on the train split (model selection
on val) and scored on the test split: accuracy, and retrieval mAP@1/5/10 over the test split with
each query's own augmented copy left out of the gallery (`retrieval`). Raw weights and inr2vec
embeddings are also scored by a linear probe (`linear_probe`: logistic regression solved to
convergence on train-standardized features), which compares what the features carry without
hanging on the classifier's training budget.

What each retrieves with: raw weights and inr2vec rank by L2 between their unsupervised vectors
(standardized weights, embeddings); PointNet and the NFN, trained only as classifiers, rank by
their last hidden layer (a supervised feature: marked in the table).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from inrzoo import config as configlib
from inrzoo.zoo.core.job_config import TrainJobConfig
from inrzoo.zoo.tasks.classification import ClassifierConfig, classification_task, linear_probe, sized_for
from inrzoo.zoo.tasks.embedding import embed_params
from inrzoo.zoo.tasks.reconstruction import reconstruction_quality
from inrzoo.zoo.tasks.retrieval import retrieval_task
from inrzoo.zoo.nfn.network import InvariantNFN, LayerStandardizer, NFNConfig, features_from_params, layer_sizes
from inrzoo.zoo.components.pointnet import PointNet, PointNetConfig
from inrzoo.zoo.tasks.training import TrainConfig, accuracy, take, train_classifier

from weightspace_inputs import Split

log = logging.getLogger("weightspace_kicad.methods")


def probe(features: dict[str, torch.Tensor], splits: dict[str, Split]) -> float:
    """Test accuracy of the linear probe (train-standardized features, L2 strength chosen on val)."""
    return linear_probe(features["train"], splits["train"].labels, features["test"], splits["test"].labels,
                        features["val"], splits["val"].labels)["test_accuracy"]


def retrieval(features: torch.Tensor, split: Split) -> dict[str, float]:
    scores = retrieval_task(features.float(), split.labels, groups=split.sources)
    return {k: scores[k] for k in ("map@1", "map@5", "map@10")}


class TreeCpu:
    """CPU seconds spent by this process and by every process below it between construction and
    `total()` (Linux /proc). A background thread samples the tree every `interval` seconds and keeps
    each process's own user+system time, keyed by pid and start time (a reused pid is another
    process). Reading the tree only at the end lost the Ray workers: they are grandchildren that
    exit without being reaped into this process's cutime (inr2vec: 379 CPU s counted in 3,786 s of
    one busy worker). Not counted: a process's last `interval` before it exits, and processes that
    live less than that."""

    def __init__(self, interval: float = 0.5) -> None:
        self.start = self._sample()
        self.seen = dict(self.start)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._poll, args=(interval,), daemon=True, name="tree-cpu")
        self.thread.start()

    @staticmethod
    def _stat(pid: str) -> list[str] | None:
        try:
            text = Path(f"/proc/{pid}/stat").read_text()
        except OSError:  # gone meanwhile
            return None
        return text[text.rindex(")") + 2:].split()  # fields from the state on (the name may hold spaces)

    @classmethod
    def _sample(cls) -> dict[tuple[str, str], int]:
        """{(pid, start time): own utime + stime in clock ticks} of this process and its descendants."""
        children: dict[str, list[str]] = {}
        stats = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and (fields := cls._stat(entry.name)) is not None:
                stats[entry.name] = fields
                children.setdefault(fields[1], []).append(entry.name)
        found, todo = {}, [str(os.getpid())]
        while todo:
            pid = todo.pop()
            if (fields := stats.get(pid)) is not None:
                found[(pid, fields[19])] = int(fields[11]) + int(fields[12])
            todo += children.get(pid, [])
        return found

    def _merge(self, sample: dict[tuple[str, str], int]) -> None:
        for key, ticks in sample.items():
            self.seen[key] = max(self.seen.get(key, 0), ticks)

    def _poll(self, interval: float) -> None:
        while not self.done.wait(interval):
            self._merge(self._sample())

    def total(self) -> float:
        self.done.set()
        self.thread.join()
        self._merge(self._sample())
        return sum(ticks - self.start.get(key, 0) for key, ticks in self.seen.items()) / os.sysconf("SC_CLK_TCK")


def _timed(fn):
    def run(*args, **kwargs) -> dict[str, Any]:
        cpu, wall = TreeCpu(), time.time()
        result = fn(*args, **kwargs)
        result["cpu_seconds"] = round(cpu.total())
        result["wall_seconds"] = round(time.time() - wall)
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
                                 sized_for(classifier, x["train"].shape[1]), x["val"], splits["val"].labels)
    return {"accuracy": result["test_accuracy"], "probe_accuracy": probe(flat, splits),
            **retrieval(x["test"], splits["test"]), "best_val_accuracy": result.get("best_val_accuracy")}


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
    model: dict[str, Any]  # the zoo job's `model:` section (name inr2vec and its config fields)
    train: dict[str, Any]  # the job's `train:` section (epochs, batch size, optimizer)
    classifier: ClassifierConfig
    reconstruction_shapes: int = 16
    mesh_resolution: int = 64
    train_copies: bool = True  # False: train without the augmented copies (an ablation)
    workers: int = 1


def core_job(uri: str, budget: Inr2vecBudget, storage: str, name: str) -> TrainJobConfig:
    return configlib.from_dict(TrainJobConfig, {
        "model": budget.model, "train": budget.train,
        "data": {"uri": uri, "options": {"train_copies": budget.train_copies}},
        "scaling": {"workers": budget.workers, "cpus_per_worker": 1, "torch_threads": 1},
        "checkpoint": {"storage_path": storage, "name": name, "keep": 1},
        "tracking": {"enabled": False}, "evaluation": {"tasks": []}}, source="weightspace_kicad inr2vec")


def train_on_core(uri: str, budget: Inr2vecBudget, storage: str, name: str):
    """inr2vec trained by the zoo core's Ray Train path (TorchTrainer, training states under
    `storage`, resumed when run again under the same name); returns the trained model."""
    from inrzoo.zoo.core import ray_train
    from inrzoo.zoo.core.data import open_data
    from inrzoo.zoo.core.job import model_from_result

    cfg = core_job(uri, budget, storage, name)
    data = open_data("weights", cfg.data)
    log.info("inr2vec %s on the core: %s", name, data.describe())
    model, epochs = model_from_result(ray_train.fit(cfg), data, cfg)
    log.info("inr2vec %s: %d epochs trained", name, epochs)
    return model


@_timed
def inr2vec(splits: dict[str, Split], num_classes: int, uri: str, budget: Inr2vecBudget, storage: str,
            name: str) -> dict[str, Any]:
    return embedding_scores(train_on_core(uri, budget, storage, name), splits, num_classes, budget)


@_timed
def inr2vec_untrained(splits: dict[str, Split], num_classes: int, uri: str, budget: Inr2vecBudget) -> dict[str, Any]:
    """inr2vec's encoder as the core builds it before the first epoch (same seed, input statistics
    prepared), never trained: what the embedding carries that training did not put there (item 4)."""
    from inrzoo.zoo.core.data import open_data
    from inrzoo.zoo.core.ray_train import build_model

    cfg = core_job(uri, budget, "", "untrained")
    data = open_data("weights", cfg.data)
    torch.manual_seed(cfg.train.seed)
    model = build_model(cfg, data)
    model.prepare(data)
    return embedding_scores(model, splits, num_classes, budget)


def embedding_scores(model, splits: dict[str, Split], num_classes: int, budget: Inr2vecBudget) -> dict[str, Any]:
    """The thesis classifier on inr2vec embeddings, retrieval on them, and the decoder's
    reconstruction of the first test INRs."""
    emb = {k: embed_params(model, s.params) for k, s in splits.items()}
    result = classification_task(emb["train"], splits["train"].labels, emb["test"], splits["test"].labels, num_classes,
                                 sized_for(budget.classifier, emb["train"].shape[1]), emb["val"], splits["val"].labels)
    scores = {"accuracy": result["test_accuracy"], "probe_accuracy": probe(emb, splits),
              **retrieval(emb["test"], splits["test"]), "best_val_accuracy": result.get("best_val_accuracy")}
    n = min(budget.reconstruction_shapes, len(splits["test"]))
    if n:  # Chamfer-L1 / F-score (threshold 0.01) of decoded vs input INR surfaces, marching cubes on both
        recon = reconstruction_quality(model, take(splits["test"].params, torch.arange(n)),
                                       resolution=budget.mesh_resolution)
        scores.update({f"reconstruction_{k}": recon[k] for k in ("chamfer", "fscore", "scored", "failed")})
    return scores


def weight_statistics(split: Split, arch, seed: int) -> dict[str, dict[str, float]]:
    """Per tensor: mean |shared initialization|, mean |what fitting added| and the mean deviation
    across INRs (item 4's diagnosis: which part of each weight tells shapes apart)."""
    init = arch.init_params(seed)
    stats = {}
    for name, values in split.params.items():
        delta = values.float() - init[name].float()
        stats[name] = {"init_abs": float(init[name].abs().mean()), "delta_abs": float(delta.abs().mean()),
                       "across_inrs_std": float(values.float().std(0).mean())}
    return stats


def chance(splits: dict[str, Split]) -> dict[str, Any]:
    majority = int(torch.bincount(splits["train"].labels).argmax())
    return {"accuracy": float((splits["test"].labels == majority).float().mean())}
