"""Garments back from latent codes: the UDF of one code as numpy callables, meshed by MeshUDF."""

from __future__ import annotations

import numpy as np
import torch

from inrzoo.geometry import mesh_udf
from inrzoo.zoo.drapenet.model import DrapeNetGarments


def udf_functions(model: DrapeNetGarments, code: torch.Tensor, batch_size: int = 65536):
    """(udf, gradient): numpy callables on points [M, 3] for one code [latent] (model in eval mode)."""
    model.eval()
    device = next(model.parameters()).device
    code = code.detach().to(device).reshape(1, -1)

    def udf(points: np.ndarray) -> np.ndarray:
        out = []
        with torch.no_grad():
            for start in range(0, len(points), batch_size):
                chunk = torch.as_tensor(points[start:start + batch_size], device=device).unsqueeze(0)
                out.append(model.udf(code, chunk)[0].cpu().numpy())
        return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)

    def gradient(points: np.ndarray) -> np.ndarray:
        out = []
        for start in range(0, len(points), batch_size // 4):
            chunk = torch.as_tensor(points[start:start + batch_size // 4], device=device).unsqueeze(0)
            chunk.requires_grad_(True)
            (grad,) = torch.autograd.grad(model.udf(code, chunk).sum(), chunk)
            out.append(grad[0].cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 3), dtype=np.float32)

    return udf, gradient


def reconstruct(model: DrapeNetGarments, code: torch.Tensor, resolution: int = 128, bounds=(-1.0, 1.0)):
    """The garment of `code` as an open trimesh (MeshUDF on a resolution^3 grid over `bounds`)."""
    udf, gradient = udf_functions(model, code)
    return mesh_udf(udf, resolution, gradient=gradient, bounds=bounds)
