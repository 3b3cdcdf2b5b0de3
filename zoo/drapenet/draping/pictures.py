"""Pictures of draped outfits: meshes drawn by matplotlib as depth-sorted, Lambert-shaded triangles.

An orthographic view from the front (anny faces -y, z up) turned by `azimuth` degrees about z;
the triangles of all meshes are painted far to near, so a body, a top and a bottom occlude one
another as they should (a painter's algorithm: exact enough for pictures, not for measurement).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from inrzoo.render import pyplot

COLORS = {"body": (0.85, 0.80, 0.75), "top": (0.30, 0.50, 0.85), "bottom": (0.35, 0.35, 0.40)}
LIGHT = np.array([-0.3, -0.8, 0.5]) / np.linalg.norm([-0.3, -0.8, 0.5])


def view_rotation(azimuth: float) -> np.ndarray:
    a = np.deg2rad(azimuth)
    return np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]])


def draw_meshes(ax, meshes: Sequence[tuple[np.ndarray, np.ndarray, tuple[float, float, float]]],
                azimuth: float = 25.0) -> None:
    """meshes: (vertices [V, 3], faces [F, 3], rgb) drawn together on a 2D axis."""
    from matplotlib.collections import PolyCollection

    turn = view_rotation(azimuth)
    polygons, depths, colors = [], [], []
    for vertices, faces, rgb in meshes:
        triangles = (np.asarray(vertices) @ turn.T)[np.asarray(faces)]
        normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
        normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
        shade = 0.35 + 0.65 * np.abs(normals @ LIGHT)  # two-sided: garments are open sheets
        polygons.append(triangles[:, :, [0, 2]])
        depths.append(triangles[:, :, 1].mean(axis=1))
        colors.append(np.clip(shade[:, None] * np.asarray(rgb)[None], 0, 1))
    order = np.argsort(-np.concatenate(depths))  # far (large y) first
    ax.add_collection(PolyCollection(np.concatenate(polygons)[order], facecolors=np.concatenate(colors)[order],
                                     edgecolors="none"))
    points = np.concatenate([p.reshape(-1, 2) for p in polygons])
    low, high = points.min(axis=0), points.max(axis=0)
    center, half = (low + high) / 2, (high - low).max() / 2 * 1.05
    ax.set_xlim(center[0] - half, center[0] + half)
    ax.set_ylim(center[1] - half, center[1] + half)
    ax.set_aspect("equal")
    ax.set_axis_off()


def outfit_grid(panels: Sequence[Sequence[tuple[str, list]]], path: str | Path, size: float = 2.6) -> Path:
    """panels[row][column] = (title, meshes for draw_meshes); one PNG."""
    plt = pyplot()
    rows, columns = len(panels), max(len(r) for r in panels)
    fig, axes = plt.subplots(rows, columns, figsize=(size * columns, size * 1.3 * rows), squeeze=False)
    for i, row in enumerate(panels):
        for j in range(columns):
            ax = axes[i][j]
            if j >= len(row):
                ax.set_axis_off()
                continue
            title, meshes = row[j]
            draw_meshes(ax, meshes)
            ax.set_title(title, fontsize=7)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
