"""Pictures of the embedding space: interpolation strips and t-SNE maps (PNG files).

Interpolation decodes (1 - t) a + t b for evenly spaced t in [0, 1] into meshes and draws each
as a shaded 3D projection; t-SNE maps embeddings to 2D and colours the points by class.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from inrzoo.render import draw_mesh, pyplot
from inrzoo.zoo.core.model import Encoder, FieldDecoder, ZooModel
from inrzoo.zoo.core.tasks import Task, TaskContext, TaskOutcome
from inrzoo.zoo.tasks.embedding import SplitData, embed_split
from inrzoo.zoo.tasks.reconstruction import decode_meshes


def interpolate_embeddings(a: Tensor, b: Tensor, steps: int) -> Tensor:
    """[steps, E]: (1 - t) a + t b for t = 0, 1/(steps-1), ..., 1."""
    if steps < 2:
        raise ValueError(f"interpolation needs at least 2 steps, got {steps}")
    t = torch.linspace(0.0, 1.0, steps, dtype=a.dtype).unsqueeze(1)
    return (1 - t) * a.reshape(1, -1) + t * b.reshape(1, -1)


def interpolation_strip(model: ZooModel, a: Tensor, b: Tensor, path: str | Path, steps: int = 5,
                        resolution: int = 64) -> Path:
    """Decode `steps` interpolations between embeddings a and b into one PNG strip; returns the path."""
    plt = pyplot()
    meshes = decode_meshes(model, interpolate_embeddings(a.float(), b.float(), steps), resolution)
    fig = plt.figure(figsize=(2.4 * steps, 2.6))
    for i, mesh in enumerate(meshes):
        ax = fig.add_subplot(1, steps, i + 1, projection="3d")
        draw_mesh(ax, mesh, bounds=(np.zeros(3), 1.0))  # the normalized [-1,1]^3 frame
        ax.set_title(f"t={i / (steps - 1):.2f}", fontsize=9)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def tsne_coordinates(embeddings: Tensor, perplexity: float = 30.0, seed: int = 0) -> np.ndarray:
    """[N, 2] t-SNE coordinates (perplexity lowered below N when the set is small)."""
    from sklearn.manifold import TSNE

    n = len(embeddings)
    if n < 3:
        raise ValueError(f"t-SNE needs at least 3 embeddings, got {n}")
    tsne = TSNE(n_components=2, perplexity=min(perplexity, (n - 1) / 3), init="pca", random_state=seed)
    return tsne.fit_transform(embeddings.detach().cpu().double().numpy())


def tsne_plot(embeddings: Tensor, labels: Tensor, path: str | Path, class_names: Sequence[str] | None = None,
              perplexity: float = 30.0, seed: int = 0) -> Path:
    """Scatter of the t-SNE map coloured by class, saved as PNG; returns the path."""
    plt = pyplot()
    coords = tsne_coordinates(embeddings, perplexity, seed)
    labels_np = labels.cpu().numpy()
    fig, ax = plt.subplots(figsize=(6, 6))
    cmap = plt.get_cmap("tab20")
    for i, cls in enumerate(np.unique(labels_np)):
        mask = labels_np == cls
        name = class_names[int(cls)] if class_names is not None else str(cls)
        ax.scatter(coords[mask, 0], coords[mask, 1], s=8, color=cmap(i % 20), label=name)
    ax.set_xticks([]), ax.set_yticks([])
    ax.set_title("embeddings (t-SNE)")
    if len(np.unique(labels_np)) <= 20:
        ax.legend(fontsize=7, markerscale=2, loc="best")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


@dataclass
class PlotsSettings:
    interpolation_steps: int = 5
    mesh_resolution: int = 64
    perplexity: float = 30.0  # lowered below N for small test splits
    batch_size: int = 64


def plot_artifacts(model: ZooModel, split: SplitData, out_dir: Path, class_names: list[str],
                   cfg: PlotsSettings) -> list[Path]:
    """interpolation.png between the first two held-out shapes of different classes (or the first
    two; decoders only), and tsne.png of the held-out embeddings (needs 3+ of them)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    if len(split) >= 2 and isinstance(model, FieldDecoder):
        other = next((i for i in range(1, len(split)) if split.labels[i] != split.labels[0]), 1)
        paths.append(interpolation_strip(model, split.embeddings[0], split.embeddings[other],
                                         out_dir / "interpolation.png", cfg.interpolation_steps, cfg.mesh_resolution))
    if len(split) >= 3:
        perplexity = float(min(cfg.perplexity, (len(split) - 1) / 3))
        paths.append(tsne_plot(split.embeddings, split.labels, out_dir / "tsne.png", class_names or None,
                               perplexity=perplexity))
    return paths


class PlotsTask(Task):
    name = "plots"
    config_class = PlotsSettings
    requires = (Encoder,)

    def run(self, ctx: TaskContext, cfg: PlotsSettings) -> TaskOutcome:
        test = ctx.data.views["test"]
        split = embed_split(ctx.model, test, cfg.batch_size)
        paths = plot_artifacts(ctx.model, split, ctx.out_dir, list(test.label_names), cfg)
        return TaskOutcome({"plots": float(len(paths))}, paths)
