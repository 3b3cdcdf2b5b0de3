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

from inrzoo.zoo.inr2vec.evaluate import decode_meshes
from inrzoo.zoo.inr2vec.model import Inr2vec


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: never needs a display
    import matplotlib.pyplot as plt

    return plt


def interpolate_embeddings(a: Tensor, b: Tensor, steps: int) -> Tensor:
    """[steps, E]: (1 - t) a + t b for t = 0, 1/(steps-1), ..., 1."""
    if steps < 2:
        raise ValueError(f"interpolation needs at least 2 steps, got {steps}")
    t = torch.linspace(0.0, 1.0, steps, dtype=a.dtype).unsqueeze(1)
    return (1 - t) * a.reshape(1, -1) + t * b.reshape(1, -1)


def _draw_mesh(ax, mesh) -> None:
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    ax.set_axis_off()
    ax.set_xlim(-1, 1), ax.set_ylim(-1, 1), ax.set_zlim(-1, 1)
    ax.set_box_aspect((1, 1, 1))
    ax.view_init(elev=20, azim=-60)
    if mesh is None or len(mesh.faces) == 0:
        ax.text2D(0.5, 0.5, "no surface", ha="center", va="center", transform=ax.transAxes)
        return
    triangles = np.asarray(mesh.vertices)[np.asarray(mesh.faces)]
    normals = np.asarray(mesh.face_normals)
    light = np.array([0.3, -0.5, 0.8]) / np.linalg.norm([0.3, -0.5, 0.8])
    shade = 0.3 + 0.7 * np.clip(normals @ light, 0.0, 1.0)  # Lambert term plus ambient
    colors = np.stack([0.35 * shade, 0.55 * shade, 0.85 * shade, np.ones_like(shade)], axis=1)
    ax.add_collection3d(Poly3DCollection(triangles, facecolors=colors, edgecolors="none"))


def interpolation_strip(model: Inr2vec, a: Tensor, b: Tensor, path: str | Path, steps: int = 5,
                        resolution: int = 64) -> Path:
    """Decode `steps` interpolations between embeddings a and b into one PNG strip; returns the path."""
    plt = _pyplot()
    meshes = decode_meshes(model, interpolate_embeddings(a.float(), b.float(), steps), resolution)
    fig = plt.figure(figsize=(2.4 * steps, 2.6))
    for i, mesh in enumerate(meshes):
        ax = fig.add_subplot(1, steps, i + 1, projection="3d")
        _draw_mesh(ax, mesh)
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
    plt = _pyplot()
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
