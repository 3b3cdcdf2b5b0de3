"""Scores and pictures of a garment model: reconstructions of held-out garments against the
nearest training garment, strips of garments, and measurements that show what an edit did.

Distances are in the garment frame (normalized; 1 unit = `Body.garment_frame().scale` metres,
~1.09 m for anny's average body). Points sampled on each mesh are measured against the other
mesh's exact surface (not against a second sample, whose own spacing would dominate at fine
thresholds): Chamfer is the mean of the two directed mean distances (inrzoo.metrics' convention),
the F-score at tau (default 0.01, ~1.1 cm) the harmonic mean of the shares within tau.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import trimesh

from inrzoo import geometry
from inrzoo.metrics import chamfer
from inrzoo.zoo.drapenet.model import DrapeNetGarments
from inrzoo.zoo.drapenet.reconstruct import reconstruct
from inrzoo.zoo.drapenet.source import GarmentData

# Boxes (in the garment frame) that hold every top / bottom of the generator, for meshing.
BOUNDS = {"top": (np.array([-0.6, -0.35, -0.9]), np.array([0.6, 0.55, 0.45])),
          "bottom": (np.array([-0.55, -0.35, -0.9]), np.array([0.55, 0.55, 0.1]))}


def cube_bounds(category: str) -> tuple[np.ndarray, np.ndarray]:
    """The category's box grown to a cube (MeshUDF wants equal steps on the three axes)."""
    low, high = BOUNDS[category]
    center, half = (low + high) / 2, float((high - low).max() / 2)
    return center - half, center + half


def surface_cloud(mesh, count: int, seed: int = 0) -> np.ndarray:
    """count points on a mesh (inrzoo Mesh or trimesh), area-weighted."""
    tm = mesh if isinstance(mesh, trimesh.Trimesh) else trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)
    return np.asarray(trimesh.sample.sample_surface(tm, count, seed=seed)[0], dtype=np.float64)


def _as_mesh(mesh) -> geometry.Mesh:
    return mesh if isinstance(mesh, geometry.Mesh) else geometry.Mesh(mesh.vertices, mesh.faces)


def scores(reconstruction, reference, count: int, tau: float) -> dict[str, float]:
    """Chamfer and F-score@tau between a reconstructed mesh and the reference mesh (see above)."""
    if reconstruction is None or len(reconstruction.faces) == 0:
        return {"chamfer": float("nan"), "fscore": 0.0}
    predicted, truth = _as_mesh(reconstruction), _as_mesh(reference)
    to_truth = geometry.unsigned_distance(truth, surface_cloud(predicted, count, seed=1))
    to_predicted = geometry.unsigned_distance(predicted, surface_cloud(truth, count, seed=2))
    precision, recall = float((to_truth < tau).mean()), float((to_predicted < tau).mean())
    f = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return {"chamfer": 0.5 * float(to_truth.mean() + to_predicted.mean()), "fscore": f}


def nearest_training(reference, train_meshes: list, count: int, tau: float) -> dict[str, float]:
    """The baseline: scores of the closest training garment (what a perfect retrieval would give).
    Candidates are ranked by a quick point-cloud Chamfer, the best few scored exactly."""
    cloud = surface_cloud(reference, 2000, seed=5)
    quick = [chamfer(surface_cloud(mesh, 2000, seed=6), cloud) for mesh in train_meshes]
    best = [scores(train_meshes[i], reference, count, tau) for i in np.argsort(quick)[:3]]
    return min(best, key=lambda s: s["chamfer"])


@torch.no_grad()
def encode_split(model: DrapeNetGarments, data: GarmentData, split: str, batch_size: int = 8) -> torch.Tensor:
    """Codes [items, latent] of a split's garments in row order, from their stored surface points."""
    model.eval()
    device = next(model.parameters()).device
    codes = [model.encode(batch.surface.to(device)).cpu() for batch in data.batches(split, batch_size)]
    return torch.cat(codes) if codes else torch.zeros(0, model.config.latent_dim)


def reconstruct_codes(model: DrapeNetGarments, codes, category: str, resolution: int) -> list:
    """MeshUDF meshes of codes [K, latent] in the category's box."""
    return [reconstruct(model, torch.as_tensor(np.asarray(code), dtype=torch.float32), resolution, cube_bounds(category))
            for code in codes]


def attribute_values(params: list[dict[str, float]], name: str) -> np.ndarray:
    """One value per garment (NaN where a garment has no such parameter)."""
    return np.array([p.get(name, np.nan) for p in params], dtype=np.float64)


def sleeve_reach(mesh) -> float:
    """How far the garment reaches sideways (|x| max): longer sleeves reach further."""
    return float(np.abs(np.asarray(mesh.vertices)[:, 0]).max()) if len(mesh.faces) else float("nan")


def hem_height(mesh) -> float:
    """The lowest point of the garment (z min): a shorter skirt ends higher."""
    return float(np.asarray(mesh.vertices)[:, 2].min()) if len(mesh.faces) else float("nan")


def strip_figure(rows: list[tuple[str, list]], path: Path) -> Path:
    """One row of meshes per (title, meshes), drawn in the same frame (the garment region)."""
    from inrzoo.render import draw_mesh, pyplot

    plt = pyplot()
    width = max(len(meshes) for _, meshes in rows)
    fig = plt.figure(figsize=(2.4 * width, 2.6 * len(rows)))
    for r, (title, meshes) in enumerate(rows):
        for c, mesh in enumerate(meshes):
            ax = fig.add_subplot(len(rows), width, r * width + c + 1, projection="3d")
            draw_mesh(ax, mesh, (np.array([0.0, 0.1, -0.2]), 0.6))
            ax.view_init(elev=10, azim=-75)
            if c == 0:
                ax.set_title(title, fontsize=8, loc="left")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
