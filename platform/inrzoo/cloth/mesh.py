"""The rest state of a cloth mesh: what the energies compare a deformed mesh with.

For a triangle mesh in its rest shape (the canonical garment, metres):
    dm_inv     [F, 2, 2]  inverse of the rest edge matrix in each triangle's own 2D frame
    areas      [F]        rest areas
    masses     [V]        area density x vertex_areas (one third of the rest area of the vertex's
                          triangles), from the current material
    hinges     [E, 4]     per interior edge (shared by exactly two triangles): its two vertices
                          (e0, e1) and the opposite vertex of each triangle (a, b), ordered so
                          that (e0, e1, a) and (e1, e0, b) keep the faces' orientation
    hinge_scale [E]       l^2 / (4 (A_a + A_b)) from rest length and areas (ArcSim's weighting)
    boundary   [V] bool   vertices on an open edge (hems, necklines, cuffs)
Non-manifold edges (more than two triangles) are left out of the hinges.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from inrzoo.cloth.material import Material


def _triangle_frames(corners: np.ndarray) -> np.ndarray:
    """Rest edge matrices [F, 2, 2] of each triangle in an orthonormal frame of its own plane."""
    e1 = corners[:, 1] - corners[:, 0]
    e2 = corners[:, 2] - corners[:, 0]
    u = e1 / np.linalg.norm(e1, axis=1, keepdims=True).clip(1e-12)
    normal = np.cross(e1, e2)
    v = np.cross(normal / np.linalg.norm(normal, axis=1, keepdims=True).clip(1e-12), u)
    return np.stack([np.stack([(e1 * u).sum(1), (e2 * u).sum(1)], 1),
                     np.stack([(e1 * v).sum(1), (e2 * v).sum(1)], 1)], 1)


def hinges_of(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hinges [E, 4], face pairs [E, 2], boundary edges [K, 2]) of a triangle list."""
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    opposite = np.concatenate([faces[:, 2], faces[:, 0], faces[:, 1]])
    owner = np.tile(np.arange(len(faces)), 3)
    key = np.sort(edges, axis=1)
    _, inverse, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pairs = starts[counts == 2]
    first, second = order[pairs], order[pairs + 1]
    hinges = np.stack([edges[first, 0], edges[first, 1], opposite[first], opposite[second]], axis=1)
    boundary = edges[order[starts[counts == 1]]]
    return hinges, np.stack([owner[first], owner[second]], axis=1), boundary


class ClothMesh:
    """Rest state of a triangle mesh (vertices [V, 3] in metres, faces [F, 3]) and its material."""

    def __init__(self, vertices, faces, material: Material | None = None, dtype: torch.dtype = torch.float32):
        vertices = np.asarray(vertices, dtype=np.float64)
        faces = np.asarray(faces, dtype=np.int64)
        if vertices.ndim != 2 or vertices.shape[1] != 3 or faces.ndim != 2 or faces.shape[1] != 3 or not len(faces):
            raise ValueError(f"cloth mesh: vertices [V, 3] and faces [F, 3] required, got {vertices.shape}, {faces.shape}")
        if faces.min() < 0 or faces.max() >= len(vertices):
            raise ValueError(f"cloth mesh: face indices outside [0, {len(vertices)})")
        self.material = material or Material()
        corners = vertices[faces]
        areas = 0.5 * np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1)
        if (areas <= 1e-14).any():
            raise ValueError(f"cloth mesh: {(areas <= 1e-14).sum()} degenerate triangle(s) of zero area")
        masses = np.zeros(len(vertices))
        np.add.at(masses, faces.reshape(-1), np.repeat(areas / 3.0, 3))
        hinges, pairs, boundary_edges = hinges_of(faces)
        length = np.linalg.norm(vertices[hinges[:, 1]] - vertices[hinges[:, 0]], axis=1)
        boundary = np.zeros(len(vertices), dtype=bool)
        boundary[boundary_edges.reshape(-1)] = True
        as_tensor = lambda a: torch.as_tensor(a, dtype=dtype)  # noqa: E731
        self.rest_vertices = as_tensor(vertices)
        self.faces = torch.as_tensor(faces)
        self.dm_inv = as_tensor(np.linalg.inv(_triangle_frames(corners)))
        self.areas = as_tensor(areas)
        self.vertex_areas = as_tensor(masses)
        self.hinges = torch.as_tensor(hinges)
        self.hinge_faces = torch.as_tensor(pairs)
        self.hinge_scale = as_tensor(length**2 / (4.0 * (areas[pairs[:, 0]] + areas[pairs[:, 1]])))
        self.boundary = torch.as_tensor(boundary)

    @property
    def masses(self) -> Tensor:
        return self.vertex_areas * self.material.area_density

    @property
    def num_vertices(self) -> int:
        return len(self.rest_vertices)

    def total_area(self) -> float:
        return float(self.areas.sum())

    def to(self, device: torch.device | str) -> "ClothMesh":
        for name in ("rest_vertices", "faces", "dm_inv", "areas", "vertex_areas", "hinges", "hinge_faces", "hinge_scale",
                     "boundary"):
            setattr(self, name, getattr(self, name).to(device))
        return self


def as_batch(vertices: Tensor) -> Tensor:
    """[V, 3] -> [1, V, 3]; [B, V, 3] unchanged."""
    if vertices.dim() == 2:
        return vertices.unsqueeze(0)
    if vertices.dim() != 3 or vertices.shape[-1] != 3:
        raise ValueError(f"cloth vertices must be [V, 3] or [B, V, 3], got {tuple(vertices.shape)}")
    return vertices
