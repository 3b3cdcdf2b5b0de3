"""Downstream tasks of a trained inr2vec on a weight dataset, one library function each
(the `jobs/inr2vec_tasks.py` subcommands call them). Each returns plain floats for MLflow and
writes its files (PNGs, meshes) under `out_dir`.

Tasks that need part labels (segmentation, multi-task) are in part_tasks.

Model sources: a registered model (`models:/NAME@ALIAS`, rebuilt from code, no pickle), or a
safetensors file of `save_inr2vec` / a training checkpoint folder's model.safetensors.
"""

from __future__ import annotations

from pathlib import Path

import torch

from inrzoo.store import WeightDataset
from inrzoo.zoo.inr2vec.checkpoint import load_inr2vec
from inrzoo.zoo.inr2vec.config import GanConfig, TransferConfig
from inrzoo.zoo.inr2vec.downstream import embed_view
from inrzoo.zoo.inr2vec.evaluate import decode_meshes
from inrzoo.zoo.inr2vec.generation import sample_embeddings, train_latent_gan
from inrzoo.zoo.inr2vec.model import Inr2vec
from inrzoo.zoo.inr2vec.splits import with_rows
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
