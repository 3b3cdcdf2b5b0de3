"""Pictures of the embedding space: interpolation strips and t-SNE maps (PNG files).

Interpolation decodes (1 - t) a + t b for evenly spaced t in [0, 1] into meshes and draws each
as a shaded 3D projection; t-SNE maps embeddings to 2D and colours the points by class.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from inrzoo.render import draw_mesh, pyplot
from inrzoo.zoo.inr2vec.evaluate import decode_meshes
from inrzoo.zoo.inr2vec.model import Inr2vec


def interpolate_embeddings(a: Tensor, b: Tensor, steps: int) -> Tensor:
    """[steps, E]: (1 - t) a + t b for t = 0, 1/(steps-1), ..., 1."""
    if steps < 2:
        raise ValueError(f"interpolation needs at least 2 steps, got {steps}")
    t = torch.linspace(0.0, 1.0, steps, dtype=a.dtype).unsqueeze(1)
    return (1 - t) * a.reshape(1, -1) + t * b.reshape(1, -1)


def interpolation_strip(model: Inr2vec, a: Tensor, b: Tensor, path: str | Path, steps: int = 5,
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
    ax.set_title("inr2vec embeddings (t-SNE)")
    if len(np.unique(labels_np)) <= 20:
        ax.legend(fontsize=7, markerscale=2, loc="best")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path
