"""Embedding-to-embedding transfer (inr2vec thesis C.5): e.g. point-cloud INRs -> mesh INRs.

A TransferNet (Linear layers of the embedding width, BatchNorm+ReLU between them, 8 in all) is
trained with MSE and AdamW on pairs of embeddings of the same shapes (rows paired by id) in
two spaces; transferred codes go to the target space's decoder. The task reports the held-out
MSE and top-1 matching (the nearest target code of a transferred one is its own shape's).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inrzoo.store import WeightDataset
from inrzoo.zoo.core.data import open_data
from inrzoo.zoo.core.model import Encoder, ZooModel
from inrzoo.zoo.core.tasks import Task, TaskContext, TaskOutcome, load_any_model
from inrzoo.zoo.tasks.classification import apply_in_batches
from inrzoo.zoo.tasks.embedding import embed_split
from inrzoo.zoo.tasks.training import check_pairs, fit_minibatches


@dataclass
class TransferConfig:
    """Embedding-to-embedding transfer: 8 Linear layers, BatchNorm+ReLU between them, MSE."""

    num_layers: int = 8
    lr: float = 1e-4
    weight_decay: float = 1e-4
    epochs: int = 300
    batch_size: int = 256
    seed: int = 0


@dataclass
class TransferSettings:
    target_model: str = ""  # models:/NAME@ALIAS or a model file of the target embedding space
    target_dataset: str = ""  # the target INRs of the same shapes (same ids), same storage options
    transfer: TransferConfig = field(default_factory=TransferConfig)
    batch_size: int = 64


class TransferNet(nn.Module):
    def __init__(self, embedding_dim: int, num_layers: int = 8) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"transfer num_layers must be at least 1, got {num_layers}")
        stages: list[nn.Module] = []
        for i in range(num_layers):
            stages.append(nn.Linear(embedding_dim, embedding_dim))
            if i < num_layers - 1:
                stages += [nn.BatchNorm1d(embedding_dim), nn.ReLU()]
        self.net = nn.Sequential(*stages)

    def forward(self, embeddings: Tensor) -> Tensor:
        return self.net(embeddings)


def transfer_embeddings(net: TransferNet, source: Tensor) -> Tensor:
    """Map source embeddings [N, E] into the target space (eval mode)."""
    return apply_in_batches(net, source)


def transfer_mse(net: TransferNet, source: Tensor, target: Tensor) -> float:
    check_pairs(source, target, "transfer_mse")
    return float(F.mse_loss(transfer_embeddings(net, source), target.float()))


def train_transfer(source: Tensor, target: Tensor, config: TransferConfig | None = None,
                   val_source: Tensor | None = None, val_target: Tensor | None = None,
                   device: torch.device | str = "cpu") -> tuple[TransferNet, dict[str, list[float]]]:
    """Train source [N, E] -> target [N, E]; keeps the weights with the lowest validation MSE."""
    config = config or TransferConfig()
    check_pairs(source, target, "train_transfer")
    if source.shape[1] != target.shape[1]:
        raise ValueError(f"train_transfer: source size {source.shape[1]} differs from target size {target.shape[1]}")
    torch.manual_seed(config.seed)
    net = TransferNet(source.shape[1], config.num_layers).to(device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)

    def batch_loss(idx: Tensor) -> Tensor:
        return F.mse_loss(net(source[idx].to(device).float()), target[idx].to(device).float())

    validate = None if val_source is None or val_target is None else (lambda: transfer_mse(net, val_source, val_target))
    history = fit_minibatches(net, len(source), batch_loss, optimizer, epochs=config.epochs,
                              batch_size=config.batch_size, seed=config.seed, min_size=2, validate=validate,
                              higher_is_better=False)
    return net, {"loss": history["loss"], "val_mse": history["val"]}


def paired_embeddings(source: ZooModel, a: WeightDataset, target: ZooModel, b: WeightDataset,
                      batch_size: int = 64) -> tuple[Tensor, Tensor]:
    """Embeddings of the rows of `a` and `b` with the same ids, in the same order."""
    ids_a, ids_b = list(a.columns["id"][a.rows]), list(b.columns["id"][b.rows])
    in_b = set(ids_b)
    common = [i for i in ids_a if i in in_b]
    if len(common) < 2:
        raise ValueError(f"{a.uri} and {b.uri}: fewer than 2 shared ids")
    rows_a = a.rows[[ids_a.index(i) for i in common]]
    rows_b = b.rows[[ids_b.index(i) for i in common]]
    return (embed_split(source, a.select(rows_a), batch_size).embeddings,
            embed_split(target, b.select(rows_b), batch_size).embeddings)


class TransferTask(Task):
    name = "transfer"
    config_class = TransferSettings
    requires = (Encoder,)

    def run(self, ctx: TaskContext, cfg: TransferSettings) -> TaskOutcome:
        if not (cfg.target_model and cfg.target_dataset):
            raise ValueError("tasks.transfer needs target_model and target_dataset")
        target = load_any_model(cfg.target_model)
        target_data = open_data(target.data_kind, dataclasses.replace(ctx.data.section, uri=cfg.target_dataset))
        pairs = {split: paired_embeddings(ctx.model, ctx.data.views[split], target, target_data.views[split], cfg.batch_size)
                 for split in ("train", "test")}
        net, _ = train_transfer(*pairs["train"], cfg.transfer)
        test_src, test_tgt = pairs["test"]
        predicted = transfer_embeddings(net, test_src)
        hits = (torch.cdist(predicted, test_tgt).argmin(1) == torch.arange(len(test_tgt))).float().mean()
        return TaskOutcome({"transfer_mse": transfer_mse(net, test_src, test_tgt), "transfer_top1": float(hits)})
