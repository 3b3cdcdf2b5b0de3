"""Reconstruction: decoding embeddings into shapes and scoring them against the input INRs.

Both the decoded field and the input INR's own field (its raw output read through the fit
loss it was fitted with: WeightSpec.field_of) are turned into meshes by marching cubes
(`inrzoo.geometry.extract_mesh`) on [-1, 1]^3 at the field's surface level; their surfaces are
sampled and compared with `inrzoo.metrics.chamfer` and `inrzoo.metrics.fscore`. A field with no
surface in the box cannot be meshed: that shape is counted in "failed" and left out of the means
(never scored as a made-up number).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import torch
from torch import Tensor

from inrzoo.zoo.core.model import Encoder, FieldDecoder, ZooModel
from inrzoo.zoo.core.tasks import Task, TaskContext, TaskOutcome
from inrzoo.zoo.core.weights import WeightSpec

PointField = Callable[[np.ndarray | Tensor], Tensor]


def surface_level(spec: WeightSpec) -> float:
    """Iso-level for marching cubes: 0, or a thin shell for unsigned distances (no sign change;
    0.01, a tenth of inr2vec's clamp: our choice)."""
    return 0.01 if spec.field == "udf" and spec.fit_loss.get("name") != "sal" else 0.0


def decoded_field(model: FieldDecoder, embedding: Tensor) -> PointField:
    """f(points [M, 3]) -> field [M] of one embedding [E] through the decoder (eval mode)."""
    device = next(model.parameters()).device
    code = embedding.reshape(1, -1).to(device).float()

    @torch.no_grad()
    def field(points):
        model.eval()
        pts = torch.as_tensor(points, dtype=torch.float32, device=device).reshape(1, -1, 3)
        return model.decode_field(code, pts)[0].cpu()

    return field


def inr_field(spec: WeightSpec, params_one: Mapping[str, Tensor], chunk: int = 65_536) -> PointField:
    """f(points [M, 3]) -> field [M] of one input INR (parameters without the K axis)."""
    forward = spec.architecture().forward
    stacked = {n: p.unsqueeze(0).float() for n, p in params_one.items()}

    @torch.no_grad()
    def field(points):
        pts = torch.as_tensor(points, dtype=torch.float32).reshape(1, -1, 3)
        raw = torch.cat([forward(stacked, pts[:, i:i + chunk]) for i in range(0, pts.shape[1], chunk)], dim=1)
        return spec.field_of(raw)[0].cpu()

    return field


def field_mesh(field: PointField, level: float, resolution: int = 64):
    """Marching-cubes mesh (trimesh.Trimesh) of a field on [-1, 1]^3 at `level`."""
    from inrzoo.geometry import extract_mesh

    return extract_mesh(lambda p: field(p).numpy(), resolution, bounds=(-1.0, 1.0), level=level)


def decode_meshes(model: ZooModel, embeddings: Tensor, resolution: int = 64) -> list:
    """One mesh per embedding (e.g. latent-GAN samples or transferred codes); None where no surface."""
    meshes = []
    for embedding in embeddings:
        try:
            meshes.append(field_mesh(decoded_field(model, embedding), surface_level(model.spec), resolution))
        except ValueError:
            meshes.append(None)
    return meshes


def _surface_points(mesh, n: int, seed: int) -> np.ndarray:
    import trimesh

    points, _ = trimesh.sample.sample_surface(mesh, n, seed=seed)
    return np.asarray(points, dtype=np.float32)


def compare_fields(decoded: PointField, reference: PointField, level: float, resolution: int = 64,
                   n_points: int = 2048, threshold: float = 0.01, seed: int = 0, norm: str = "l1") -> dict[str, float]:
    """Chamfer (inrzoo.metrics convention `norm`: "l1" or "l2_squared") and F-score between the
    surfaces of two fields (NaN when either has no surface)."""
    from inrzoo.metrics import chamfer, fscore

    try:
        mesh_a = field_mesh(decoded, level, resolution)
        mesh_b = field_mesh(reference, level, resolution)
    except ValueError:
        return {"chamfer": math.nan, "fscore": math.nan}
    if len(mesh_a.faces) == 0 or len(mesh_b.faces) == 0:
        return {"chamfer": math.nan, "fscore": math.nan}
    a, b = _surface_points(mesh_a, n_points, seed), _surface_points(mesh_b, n_points, seed + 1)
    return {"chamfer": float(chamfer(a, b, norm=norm)), "fscore": float(fscore(a, b, threshold))}


@torch.no_grad()
def reconstruction_quality(model: ZooModel, params: Mapping[str, Tensor], *, resolution: int = 64,
                           n_points: int = 2048, threshold: float = 0.01, seed: int = 0,
                           norm: str = "l1") -> dict[str, float]:
    """Mean Chamfer / F-score of decoded shapes against their input INRs (stacked params [K, ...]).

    Returns {"chamfer", "fscore", "scored", "failed"}; "failed" counts shapes whose decoded or
    input field had no surface in the box (left out of the means).
    """
    model.eval()
    embeddings = model.encode({n: p.float() for n, p in params.items()})
    level = surface_level(model.spec)
    scores = []
    for i in range(embeddings.shape[0]):
        one = {n: p[i] for n, p in params.items()}
        scores.append(compare_fields(decoded_field(model, embeddings[i]), inr_field(model.spec, one), level,
                                     resolution, n_points, threshold, seed + 2 * i, norm))
    ok = [s for s in scores if not math.isnan(s["chamfer"])]
    mean = (lambda key: sum(s[key] for s in ok) / len(ok) if ok else math.nan)
    return {"chamfer": mean("chamfer"), "fscore": mean("fscore"), "scored": float(len(ok)),
            "failed": float(len(scores) - len(ok))}


@dataclass
class ReconstructionSettings:
    shapes: int = 8  # test INRs decoded and compared
    mesh_resolution: int = 64
    chamfer_points: int = 2048
    fscore_threshold: float = 0.01
    norm: str = "l1"  # inrzoo.metrics Chamfer convention


class ReconstructionTask(Task):
    name = "reconstruction"
    config_class = ReconstructionSettings
    requires = (Encoder, FieldDecoder)

    def run(self, ctx: TaskContext, cfg: ReconstructionSettings) -> TaskOutcome:
        view = ctx.data.views["test"]
        n = min(cfg.shapes, len(view))
        if n == 0:
            return TaskOutcome()
        group, rows = view.group_rows(range(n))
        scores = reconstruction_quality(ctx.model, view.read_params(rows, group), resolution=cfg.mesh_resolution,
                                        n_points=cfg.chamfer_points, threshold=cfg.fscore_threshold, norm=cfg.norm)
        return TaskOutcome({f"reconstruction_{k}": v for k, v in scores.items()})
