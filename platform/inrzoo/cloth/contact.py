"""Contact geometry: nearest surface vertices and signed distances along their normals.

SNUG's collision term (and DrapeNet's, and the B2G-style tests built on it) measures how far a
point x lies outside a surface by d = n_b . (x - b), b the surface vertex nearest to x and n_b
its outward unit normal; d < 0 means x is inside. The nearest vertex is found without gradients
(an index), the distance then has gradients with respect to x (and to b, n_b when they have any).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def vertex_normals(vertices: Tensor, faces: Tensor) -> Tensor:
    """Area-weighted unit vertex normals of triangle meshes: vertices [B, V, 3] (or [V, 3])."""
    batched = vertices.dim() == 3
    vertices = vertices if batched else vertices.unsqueeze(0)
    corners = vertices[:, faces]  # [B, F, 3, 3]
    face_normals = torch.cross(corners[:, :, 1] - corners[:, :, 0], corners[:, :, 2] - corners[:, :, 0], dim=-1)
    normals = torch.zeros_like(vertices)
    for k in range(3):
        normals = normals.index_add(1, faces[:, k], face_normals)
    normals = normals / normals.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return normals if batched else normals[0]


@torch.no_grad()
def nearest_indices(points: Tensor, targets: Tensor, chunk: int = 4096) -> Tensor:
    """Index [B, N] of the nearest of targets [B, M, 3] for each of points [B, N, 3]: a k-d tree on
    the CPU (a full distance matrix costs ten times more there), chunked distances elsewhere."""
    if points.device.type == "cpu":
        from scipy.spatial import cKDTree

        found = [cKDTree(t.numpy()).query(p.numpy())[1] for p, t in zip(points, targets)]
        return torch.as_tensor(np.stack(found), dtype=torch.int64)
    parts = [torch.cdist(points[:, start:start + chunk], targets).argmin(dim=-1)
             for start in range(0, points.shape[1], chunk)]
    return torch.cat(parts, dim=1)


def gather_rows(values: Tensor, index: Tensor) -> Tensor:
    """values [B, M, C], index [B, N] -> [B, N, C]."""
    return torch.gather(values, 1, index[..., None].expand(-1, -1, values.shape[-1]))


def signed_distances(points: Tensor, surface: Tensor, normals: Tensor, index: Tensor | None = None
                     ) -> tuple[Tensor, Tensor]:
    """(d [B, N], nearest index [B, N]): d = n_b . (x - b) for the surface vertex b nearest to x."""
    if index is None:
        index = nearest_indices(points.detach(), surface.detach())
    nearest = gather_rows(surface, index)
    return ((points - nearest) * gather_rows(normals, index)).sum(-1), index
