"""Fit a garment's latent code to a point cloud (thesis 2.4: Chamfer, Adam lr 0.01, from the mean code).

Each step meshes the current code's UDF with MeshUDF (every `remesh_every` steps; in between the
points follow the surface through the gradient below), samples points on the mesh, and
minimizes the Chamfer distance to the target. Points on a UDF's zero set are differentiable in
the code as MeshUDF shows: a surface point v with unit normal n moves along n by
    d(z) = (u(v - e n; z) - u(v + e n; z)) / 2
to first order (the UDF grows on the side the surface leaves), so v(z) = v + n (d(z) - d(z0)) has
the right derivative and the right value. Chosen: e is the meshing grid step; the tangential
motion of open borders (MeshUDF's border term) is left out; Chamfer is the sum of the two mean
squared nearest-neighbour distances (pytorch3d's chamfer_distance, which the authors use).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from inrzoo.zoo.drapenet.model import DrapeNetGarments
from inrzoo.zoo.drapenet.reconstruct import reconstruct

logger = logging.getLogger(__name__)


@dataclass
class FitCodeConfig:
    steps: int = 100
    lr: float = 0.01
    resolution: int = 64  # MeshUDF grid over the target's box (padded)
    padding: float = 0.15
    remesh_every: int = 10
    surface_points: int = 5000


def nearest_squared(a: Tensor, b: Tensor, chunk: int = 4096) -> Tensor:
    """For each point of a [N, 3], the squared distance to its nearest point of b [M, 3]."""
    return torch.cat([torch.cdist(a[i:i + chunk], b).min(dim=1).values ** 2 for i in range(0, len(a), chunk)])


def chamfer_squared(a: Tensor, b: Tensor) -> Tensor:
    return nearest_squared(a, b).mean() + nearest_squared(b, a).mean()


def surface_samples(mesh, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Faces [count] (area-weighted) and barycentric weights [count, 3] of points on the mesh."""
    area = mesh.area_faces
    faces = rng.choice(len(area), size=count, p=area / area.sum())
    u, v = rng.random((2, count))
    flip = u + v > 1
    u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
    return faces, np.stack([1 - u - v, u, v], axis=1)


def surface_shift(model: DrapeNetGarments, code: Tensor, vertices: Tensor, normals: Tensor, step: float) -> Tensor:
    """How far [V] the zero set of code's UDF lies from each vertex along its normal (first order)."""
    offsets = step * normals
    both = torch.cat([vertices - offsets, vertices + offsets]).unsqueeze(0)
    inside, outside = model.udf(code.reshape(1, -1), both)[0].split(len(vertices))
    return 0.5 * (inside - outside)


def fit_code(model: DrapeNetGarments, target: np.ndarray, init_code: Tensor, config: FitCodeConfig | None = None,
             seed: int = 0) -> tuple[Tensor, list[float]]:
    """The code whose garment best matches the point cloud `target` [P, 3]; returns (code, losses)."""
    config = config or FitCodeConfig()
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    device = next(model.parameters()).device
    target_t = torch.as_tensor(np.asarray(target, dtype=np.float32), device=device)
    low, high = target.min(axis=0) - config.padding, target.max(axis=0) + config.padding
    center, half = (low + high) / 2, float((high - low).max() / 2)
    bounds = (center - half, center + half)
    step = 2 * half / (config.resolution - 1)
    code = init_code.detach().clone().to(device).requires_grad_(True)
    optimizer = torch.optim.Adam([code], lr=config.lr)
    rng = np.random.default_rng(seed)
    losses: list[float] = []
    vertices = normals = faces = weights = None
    for iteration in range(config.steps):
        if iteration % config.remesh_every == 0:
            mesh = reconstruct(model, code.detach(), config.resolution, bounds=bounds)
            if len(mesh.faces):
                faces, weights = surface_samples(mesh, config.surface_points, rng)
                vertices = torch.as_tensor(mesh.vertices, dtype=torch.float32, device=device)
                normals = torch.as_tensor(np.array(mesh.vertex_normals), dtype=torch.float32, device=device)
                triangles = torch.as_tensor(mesh.faces[faces], device=device)
                weights_t = torch.as_tensor(weights, dtype=torch.float32, device=device)
            elif vertices is None:
                raise ValueError("fit_code: the initial code decodes to no surface in the target's box")
        shift = surface_shift(model, code, vertices, normals, step)
        moved = vertices + normals * (shift - shift.detach()).unsqueeze(-1)  # value: vertices; derivative: MeshUDF's
        points = (moved[triangles] * weights_t.unsqueeze(-1)).sum(dim=1)
        loss = chamfer_squared(points, target_t)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        with torch.no_grad():  # follow the surface of the updated code until the next meshing
            shift = surface_shift(model, code, vertices, normals, step).clamp(-step, step)
            vertices = vertices + normals * shift.unsqueeze(-1)
        if iteration % 10 == 0:
            logger.info("fit_code: step %d/%d chamfer %.6f", iteration, config.steps, losses[-1])
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    return code.detach(), losses
