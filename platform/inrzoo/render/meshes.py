"""Small shaded pictures of meshes (PNG, matplotlib, no display): originals next to reconstructions."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

LIGHT = np.array([0.3, -0.5, 0.8]) / np.linalg.norm([0.3, -0.5, 0.8])


def pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: never needs a display
    import matplotlib.pyplot as plt

    return plt


def draw_mesh(ax: Any, mesh: Any, bounds: tuple[np.ndarray, float] | None = None, max_faces: int = 60_000) -> None:
    """Lambert-shaded triangles of a trimesh on a 3D axis; bounds = (center, half extent)."""
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    ax.set_axis_off()
    ax.set_box_aspect((1, 1, 1))
    ax.view_init(elev=20, azim=-60)
    if mesh is None or len(mesh.faces) == 0:
        ax.text2D(0.5, 0.5, "no surface", ha="center", va="center", transform=ax.transAxes)
        return
    vertices, faces = np.asarray(mesh.vertices), np.asarray(mesh.faces)
    if len(faces) > max_faces:  # drawing cost grows with faces; a subset reads the same at this size
        faces = faces[np.linspace(0, len(faces) - 1, max_faces).astype(int)]
    center, half = bounds if bounds is not None else _bounds(vertices)
    for axis, setter in enumerate((ax.set_xlim, ax.set_ylim, ax.set_zlim)):
        setter(center[axis] - half, center[axis] + half)
    triangles = vertices[faces]
    normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    shade = 0.3 + 0.7 * np.clip(normals @ LIGHT, 0.0, 1.0)  # Lambert term plus ambient
    colors = np.stack([0.35 * shade, 0.55 * shade, 0.85 * shade, np.ones_like(shade)], axis=1)
    ax.add_collection3d(Poly3DCollection(triangles, facecolors=colors, edgecolors="none"))


def comparison_grid(rows: Sequence[tuple[str, Any, Any]], path: str | Path,
                    headers: tuple[str, str] = ("original", "reconstruction")) -> Path:
    """One row per shape: (title, original mesh, reconstructed mesh), drawn in the same frame."""
    plt = pyplot()
    fig = plt.figure(figsize=(5.0, 2.5 * len(rows)))
    for i, (title, original, reconstruction) in enumerate(rows):
        bounds = _bounds(np.asarray(original.vertices)) if original is not None and len(original.vertices) else None
        for j, mesh in enumerate((original, reconstruction)):
            ax = fig.add_subplot(len(rows), 2, 2 * i + j + 1, projection="3d")
            draw_mesh(ax, mesh, bounds)
            ax.set_title(f"{title}\n{headers[j]}" if j == 0 else headers[j], fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def save_figure(fig: Any, path: str | Path, dpi: int = 100) -> Path:
    """Write a matplotlib figure as PNG (folders made as needed), close it; returns the path."""
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def _bounds(vertices: np.ndarray) -> tuple[np.ndarray, float]:
    low, high = vertices.min(axis=0), vertices.max(axis=0)
    return (low + high) / 2, float(max((high - low).max() / 2, 1e-9))
