"""What limits inr2vec's embeddings on the KiCad weights (issue 17, item 4), in one process.

    .venv/bin/python benchmarks/weightspace_kicad.py --slice 24:8,2,4 --step points   # converts first
    .venv/bin/python benchmarks/inr2vec_diagnosis.py --data /tmp/weightspace_kicad/slice_24_8_2_4 \
        [--runs none,tensor_scale,centered,blind,flat] [--epochs 40] [--evals 0,10] [--queries 512] [--no-copies]
        [--lr 1e-3] [--train-parts 0.5]

Each run trains inr2vec at the benchmark's sizes (weightspace_kicad.method_budget) with the zoo
core's own loop (make_optimizer, train_epoch, evaluate_epoch; no Ray, one thread) on the train
split. At each epoch of --evals it reports the linear-probe test accuracy of the embeddings and
the reconstruction KL on val (BCE minus the labels' entropy: 0 is a perfect decoder); the last
epoch adds the thesis classifier's test accuracy. The raw weights are scored in the same run.
Runs (my diagnostics, not the thesis'):
- none, standardize, tensor_scale, centered: the encoder input normalizations (EncoderConfig);
- blind: the embedding zeroed before the decoder, so the decoder learns the mean field: the KL
  that reading the weights must beat to carry anything;
- flat: one position-aware MLP over the whole input matrix instead of the max-pooled per-row
  encoder: whether pooling over rows is what loses the shapes.
Prints the table and writes it as JSON to --out (default <data>/inr2vec_diagnosis.json).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

log = logging.getLogger("inr2vec_diagnosis")
NORMALIZATIONS = ("none", "standardize", "tensor_scale", "centered")
ENCODER_RUNS = ("blind", "flat")


class FlatEncoder(nn.Module):
    """The whole [rows, width] input matrix through one MLP (each entry has its own weights)."""

    def __init__(self, rows: int, width: int, embedding_dim: int, hidden: int = 1024, blind: bool = False) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.BatchNorm1d(rows * width), nn.Linear(rows * width, hidden),
                                 nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, embedding_dim))
        self.blind = blind

    def forward(self, matrices: torch.Tensor) -> torch.Tensor:
        out = self.net(matrices)
        return torch.zeros_like(out) if self.blind else out


def build(run: str, data, budget: dict[str, Any], queries: int, epochs: int, lr: float = 0.0):
    import weightspace_methods as methods
    from inrzoo.zoo.core.ray_train import build_model

    section = dict(budget["inr2vec_model"])
    encoder = dict(section["encoder"], input_normalization=run if run in NORMALIZATIONS else "none")
    section.update(encoder=encoder, teacher={**section.get("teacher", {}), "num_queries": queries})
    train = {**budget["inr2vec_train"], "epochs": epochs}
    if lr:  # the budget's constant rate unless asked
        train["optimizer"] = {**train["optimizer"], "lr": lr}
    cfg = methods.core_job(data.section.uri, methods.Inr2vecBudget(section, train, budget["classifier"]), "", run)
    torch.manual_seed(cfg.train.seed)
    model = build_model(cfg, data)
    if run in ENCODER_RUNS:
        rows, width = model.matrix_shape
        model.encoder = FlatEncoder(rows, width, model.embedding_dim, blind=run == "blind")
    model.prepare(data)
    return model, cfg


def keep_train_parts(data, fraction: float) -> None:
    """Trains on `fraction` of the train split's parts (with their augmented copies): every part whose
    rank among the sorted part ids falls in the kept share, so each class keeps about that share."""
    from inrzoo.zoo.core.weights import source_ids

    train = data.views["train"]
    parts = source_ids(train.columns["id"][train.rows])
    ranks = {part: rank for rank, part in enumerate(sorted(set(parts)))}
    # rank r is kept when floor((r + 1) f) steps up: f of every run of ranks, spread evenly
    kept_parts = {part for part, rank in ranks.items()
                  if math.floor((rank + 1) * fraction) > math.floor(rank * fraction)}
    kept = [row for row, part in zip(train.rows, parts) if part in kept_parts]
    data.views["train"] = train.select(kept)
    log.info("training on %d of %d train rows (%d of %d parts)", len(kept), len(train.rows), len(kept_parts),
             len(ranks))


def scores(model, splits, classes: int, budget: dict[str, Any], with_classifier: bool) -> dict[str, Any]:
    import weightspace_methods as methods
    from inrzoo.zoo.tasks.classification import classification_task, sized_for
    from inrzoo.zoo.tasks.embedding import embed_params

    emb = {k: embed_params(model, s.params) for k, s in splits.items()}
    result = {"probe": methods.probe(emb, splits)}
    if not isinstance(model.encoder, FlatEncoder):
        result["bias_row_share"] = bias_row_share(model, splits["test"].params)
    if with_classifier:
        result["accuracy"] = classification_task(
            emb["train"], splits["train"].labels, emb["test"], splits["test"].labels, classes,
            sized_for(budget["classifier"], emb["train"].shape[1]), emb["val"], splits["val"].labels)["test_accuracy"]
    return result


@torch.no_grad()
def bias_row_share(model, params) -> float:
    """The share of max-pooled embedding features whose winning row is a bias row (test INRs, eval
    mode): the stored input's bias rows are ~13x its weight rows in a SIREN."""
    from inrzoo.zoo.inr2vec.encoder import matrix_blocks

    model.eval()
    matrices = model.normalized(model.matrices({n: p.float() for n, p in params.items()}))
    winners = model.encoder.stages(matrices.transpose(1, 2)).argmax(dim=2)  # [K, embedding_dim] row indices
    blocks = matrix_blocks(model.param_shapes, model.config.encoder.layers, model.in_dim)
    bias_rows = blocks % 2 == 1  # blocks alternate: a layer's weight rows, then its bias row
    return float(bias_rows[winners].float().mean())


def projection_probes(splits, arch, dim: int, seeds=(0, 1)) -> list[float]:
    """Probe accuracy of the hidden layers' standardized weights under random Gaussian projections to
    `dim` values: what squeezing the input into an embedding's size costs before any pooling."""
    import weightspace_methods as methods
    from inrzoo.zoo.tasks.embedding import standardize

    columns = methods.hidden_layer_columns(arch)
    names = list(splits)
    scaled = dict(zip(names, standardize(*(splits[k].flat[:, columns] for k in names))))  # first: train
    accuracies = []
    for seed in seeds:
        projection = torch.randn(len(columns), dim, generator=torch.Generator().manual_seed(seed))
        accuracies.append(methods.probe({k: v @ projection for k, v in scaled.items()}, splits))
    return accuracies


def train_run(run: str, data, splits, classes: int, budget: dict[str, Any], args) -> list[dict[str, Any]]:
    from inrzoo.zoo.core.loop import evaluate_epoch, make_optimizer, set_epoch_lr, train_epoch
    from inrzoo.zoo.core.model import StepContext

    model, cfg = build(run, data, budget, args.queries, args.epochs, args.lr)
    optimizer = make_optimizer(model, cfg.train.optimizer)
    device, started, rows = torch.device("cpu"), time.time(), []
    evals = sorted({int(e) for e in args.evals.split(",")} | {args.epochs})
    for epoch in range(args.epochs + 1):
        if epoch in evals:
            val = evaluate_epoch(model, data.batches("val", cfg.train.batch_size),
                                 StepContext(device, torch.Generator().manual_seed(1), epoch, False))
            row = {"run": run, "epoch": epoch, "val_kl": val["kl"], "seconds": round(time.time() - started),
                   **scores(model, splits, classes, budget, with_classifier=epoch == args.epochs)}
            log.info("%s", row)
            rows.append(row)
        if epoch == args.epochs:
            break
        set_epoch_lr(optimizer, cfg.train.optimizer, epoch, args.epochs)
        generator = torch.Generator().manual_seed((cfg.train.seed * 100_003 + epoch) * 1009)
        stats = train_epoch(model, data.batches("train", cfg.train.batch_size, epoch=epoch, seed=cfg.train.seed,
                                                shuffle=True, drop_last=True),
                            optimizer, StepContext(device, generator, epoch, True))
        log.info("%s epoch %d/%d train_kl %.4f (%.0f s)", run, epoch + 1, args.epochs, stats["kl"], time.time() - started)
    return rows


def table(raw: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    lines = ["| run | epoch | val KL | probe accuracy | classifier accuracy | features won by bias rows |",
             "|---|---|---|---|---|---|", f"| raw weights | | | {raw['probe_accuracy']:.3f} | {raw['accuracy']:.3f} | |",
             "| raw hidden weights, random projections to the embedding size | | | "
             + " / ".join(f"{a:.3f}" for a in raw["projection_probes"]) + " | | |"]
    for r in rows:
        accuracy = f"{r['accuracy']:.3f}" if "accuracy" in r else ""
        share = f"{r['bias_row_share']:.3f}" if "bias_row_share" in r else ""
        lines.append(f"| inr2vec {r['run']} | {r['epoch']} | {r['val_kl']:.4f} | {r['probe']:.3f} | {accuracy} | {share} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="a weightspace_kicad.py output folder (converted, with points)")
    parser.add_argument("--runs", default="none,tensor_scale,centered,blind,flat")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--evals", default="0,10")
    parser.add_argument("--queries", type=int, default=0, help="teacher queries per INR (0: the benchmark's)")
    parser.add_argument("--lr", type=float, default=0.0,
                        help="AdamW's learning rate (0: the benchmark's, 1e-3; the thesis': 1e-4)")
    parser.add_argument("--train-parts", type=float, default=1.0,
                        help="train on this fraction of the train parts (with their copies): the data-size trend")
    parser.add_argument("--no-copies", action="store_true", help="train without the augmented copies (half the rows)")
    parser.add_argument("--out", default="")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    torch.set_num_threads(1)

    import weightspace_methods as methods
    from weightspace_inputs import load_splits
    from weightspace_kicad import N_POINTS, method_budget
    from inrzoo.zoo.core.data import open_data

    folder = Path(args.data)
    uri = str(folder / "kicad_inr2vec.zarr")
    budget = method_budget("full")
    args.queries = args.queries or budget["inr2vec_model"]["teacher"]["num_queries"]
    unknown = set(args.runs.split(",")) - set(NORMALIZATIONS) - set(ENCODER_RUNS)
    if unknown:
        raise SystemExit(f"--runs: unknown {sorted(unknown)}; known: {NORMALIZATIONS + ENCODER_RUNS}")
    splits, class_names, arch = load_splits(uri, folder / f"points_{N_POINTS}")
    data = open_data("weights", methods.core_job(uri, methods.Inr2vecBudget(
        budget["inr2vec_model"], {}, budget["classifier"], train_copies=not args.no_copies), "", "data").data)
    if args.train_parts < 1:
        keep_train_parts(data, args.train_parts)
    raw = methods.raw_weights_mlp(splits, len(class_names), budget["classifier"])
    raw["projection_probes"] = projection_probes(splits, arch, budget["inr2vec_model"]["encoder"]["embedding_dim"])
    rows = [row for run in args.runs.split(",") for row in train_run(run, data, splits, len(class_names), budget, args)]
    print(table(raw, rows), flush=True)
    out = Path(args.out or folder / "inr2vec_diagnosis.json")
    out.write_text(json.dumps({"data": uri, "rows": {k: len(s) for k, s in splits.items()},
                               "train_rows": data.split_sizes()["train"], "train_parts": args.train_parts,
                               "lr": args.lr, "epochs": args.epochs, "queries": args.queries,
                               "raw_weights": raw, "runs": rows, "budget": json.loads(json.dumps(budget, default=str))},
                              indent=1))
    log.info("wrote %s", out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
