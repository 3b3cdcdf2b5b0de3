"""Measuring an SDF space (thesis fig. 4.5): decoded MLPs against their inputs, and paths between
two shapes in embedding space against the direct interpolation of their weights.

Path error (chosen; the thesis shows the meshes): at each gamma, the mean absolute difference
between the network on the path and the blend (1 - gamma) f_A + gamma f_B of the two input
fields, at query points around both surfaces. The blend is the in-between field whose zero set
morphs A into B; a path that strays from it decodes to something that is neither shape. At
gamma = 0 and 1 the embedding path's error is the reconstruction error of A and B.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from inrzoo.geometry import GeometryError, extract_mesh
from inrzoo.inr import prep_to_params
from inrzoo.render import draw_mesh, pyplot, save_figure
from inrzoo.zoo.components.surface_queries import surface_queries
from inrzoo.zoo.core.weights import source_ids
from inrzoo.zoo.netspace.evaluate import gammas
from inrzoo.zoo.netspace.model import NetSpace


def mlp_values(model: NetSpace, preps: Tensor, points: Tensor) -> Tensor:
    """Raw outputs [K, N] of the MLPs held by PReps [K, 1, H, W] at points [K, N, 3] or [N, 3]."""
    arch = model.archs[0]
    x = points if points.dim() == 3 else points.unsqueeze(0).expand(preps.shape[0], *points.shape)
    return arch.forward(prep_to_params(preps, arch.param_shapes()), x)


@torch.no_grad()
def shared_queries(model: NetSpace, preps: Tensor, n: int, generator: torch.Generator | None = None) -> Tensor:
    """Query points [K, n, 3] around each MLP's surface (the loss's sampler with its settings)."""
    q = model.config.loss.sdf_queries
    return surface_queries(lambda points: mlp_values(model, preps, points), preps.shape[0], preps, n, q.near_fraction,
                           q.pool_factor, q.beta, q.stds, generator)


@torch.no_grad()
def reconstruction_errors(model: NetSpace, flat: Tensor, n: int = 20_000, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Per MLP: mean |f - f_decoded| at queries around its surface; returns (errors [K], the decoded
    PReps [K, 1, H, W], for whatever else is measured on them)."""
    model.eval()
    preps = model.preps(flat)
    queries = shared_queries(model, preps, n, torch.Generator().manual_seed(seed))
    decoded = model(preps)[1]
    return (mlp_values(model, decoded, queries) - mlp_values(model, preps, queries)).abs().mean(dim=1), decoded


@torch.no_grad()
def nearest_network_errors(model: NetSpace, flat: Tensor, gallery: Tensor, n: int = 4_000, seed: int = 0,
                           chunk: int = 64) -> Tensor:
    """Per MLP: mean |f - g| at queries around its surface for the gallery MLP g that is closest there.

    A retrieval reference for the decoded error (chosen; the thesis shows meshes only): what the
    best stored network of the training split gives, picked by this same error (an oracle)."""
    preps = model.preps(flat)
    queries = shared_queries(model, preps, n, torch.Generator().manual_seed(seed))
    target = mlp_values(model, preps, queries)
    best = torch.full((preps.shape[0],), float("inf"))
    for start in range(0, gallery.shape[0], chunk):
        candidates = model.preps(gallery[start:start + chunk])
        for k in range(preps.shape[0]):
            errors = (mlp_values(model, candidates, queries[k]) - target[k]).abs().mean(dim=1)
            best[k] = torch.minimum(best[k], errors.min())
    return best


def distinct_pairs(ids: list[str], count: int, generator: torch.Generator) -> list[tuple[int, int]]:
    """`count` random pairs of indices into ids whose source shapes differ: a shape and its own
    augmented copy (`<id>#aug<i>`) are the same shape at another scale, not a path between two."""
    sources = source_ids(ids)
    if len(set(sources)) < 2:
        raise ValueError(f"SDF interpolation needs MLPs of 2+ different shapes; the split holds only {sources[0]!r}")
    pairs: list[tuple[int, int]] = []
    while len(pairs) < count:
        a, b = torch.randperm(len(ids), generator=generator)[:2].tolist()
        if sources[a] != sources[b]:
            pairs.append((a, b))
    return pairs


@dataclass
class SdfPath:
    gammas: list[float]
    embedding_error: list[float]  # path of decoded interpolated embeddings
    weight_error: list[float]  # path of interpolated weights
    embedding_preps: Tensor  # [steps, 1, H, W]
    weight_preps: Tensor


@torch.no_grad()
def sdf_paths(model: NetSpace, flat_a: Tensor, flat_b: Tensor, steps: int = 7, n: int = 20_000,
              seed: int = 0) -> SdfPath:
    model.eval()
    ends = model.preps(torch.stack([flat_a, flat_b]))
    queries = shared_queries(model, ends, n // 2, torch.Generator().manual_seed(seed)).reshape(-1, 3)
    f_a, f_b = mlp_values(model, ends, queries)
    g = gammas(steps).to(flat_a.device)
    blend = (1 - g[:, None]) * f_a[None] + g[:, None] * f_b[None]
    emb = model.encode(ends)
    along = model.decode((1 - g[:, None]) * emb[0][None] + g[:, None] * emb[1][None])[0]
    direct = model.preps((1 - g[:, None]) * flat_a[None] + g[:, None] * flat_b[None])
    error = lambda preps: (mlp_values(model, preps, queries) - blend).abs().mean(dim=1).tolist()  # noqa: E731
    return SdfPath(g.tolist(), error(along), error(direct), along, direct)


def _mesh(model: NetSpace, prep: Tensor, resolution: int):
    def field(points: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return mlp_values(model, prep[None], torch.as_tensor(points, device=prep.device))[0].cpu().numpy()

    try:
        return extract_mesh(field, resolution)
    except GeometryError:
        return None  # no surface on the grid: drawn as "no surface"


def has_surface(model: NetSpace, prep: Tensor, resolution: int = 32) -> bool:
    """Whether the MLP a PRep holds has a zero level set inside [-1, 1]^3 (on a coarse grid)."""
    return _mesh(model, prep, resolution) is not None


def path_strip(model: NetSpace, path: SdfPath, out: str | Path, resolution: int = 48, title: str = "") -> Path:
    """PNG: top row the decoded embedding path, bottom row the weight path, one column per gamma."""
    plt = pyplot()
    steps = len(path.gammas)
    fig = plt.figure(figsize=(2.2 * steps, 4.8))
    for row, (name, preps, errors) in enumerate((("embedding", path.embedding_preps, path.embedding_error),
                                                 ("weights", path.weight_preps, path.weight_error))):
        for i in range(steps):
            ax = fig.add_subplot(2, steps, row * steps + i + 1, projection="3d")
            draw_mesh(ax, _mesh(model, preps[i], resolution), bounds=(np.zeros(3), 1.0))
            ax.set_title(f"{name} g={path.gammas[i]:.2f}\nerror {errors[i]:.3f}", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    return save_figure(fig, out, dpi=90)
