"""The thesis's draping metrics, three ways of draping, and the zoo task that reports them.

Metrics of an outfit draped on a body (thesis ch. 2):
    B2G   area ratio of garment faces inside the body: a face is inside when the generalized
          winding number of the posed body at its centroid is >= 0.5 (exact inside test)
    G2G   area ratio of the bottom's faces outside the top: a covered face's centre lies on the
          outer side of the draped top along the normal of its partner top vertex (coverage and
          partners from the canonical outfit, as L_layer's: losses.outfit_layering); over the
          whole bottom's area
    strain, bending, gravity   the energies of `inrzoo.cloth` (joules per garment)
Ways of draping (benchmarks/drapenet_drape.py compares them):
    skinning    the usual baseline: every garment vertex takes the skinning weights and the
                shape displacement of its nearest canonical body vertex (anny's own values)
    fields      the learned body fields alone: W(x) and dx(x, beta) with no garment displacement
                (an ablation: what the fields' error costs before the draping networks act)
    drapenet    the draping networks, no intersection solver
    drapenet+is the draping networks and the intersection solver on the bottom
    physics     (on request) no networks: the quasi-static drape solved per outfit on its body
                (reference.py), what the energies allow there: the headroom of each metric
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from inrzoo import geometry
from inrzoo.bodies.rig import skin
from inrzoo.cloth import ClothMesh, vertex_normals
from inrzoo.cloth.energies import bending_energy, gravity_energy, strain_energy
from inrzoo.zoo.core.tasks import Task, TaskContext, TaskOutcome
from inrzoo.zoo.drapenet.draping.losses import covered_depths, outfit_layering
from inrzoo.zoo.drapenet.draping.reference import ReferenceSettings, solve_outfit

METHODS = ("skinning", "fields", "drapenet", "drapenet+is")
REFERENCE = "physics"


def face_areas(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    c = vertices[faces]
    return 0.5 * np.linalg.norm(np.cross(c[:, 1] - c[:, 0], c[:, 2] - c[:, 0]), axis=1)


def b2g(garment: np.ndarray, faces: np.ndarray, body: geometry.Mesh) -> float:
    centres = garment[faces].mean(axis=1)
    inside = geometry.winding_number(body, centres) >= 0.5
    areas = face_areas(garment, faces)
    return float(areas[inside].sum() / max(areas.sum(), 1e-12))


def g2g(bottom: np.ndarray, top: Tensor, top_garment, bottom_garment) -> float:
    """G2G of a draped bottom (vertices [N, 3]) under a draped top (vertices [M, 3])."""
    faces = bottom_garment.cloth.faces
    layering = outfit_layering(bottom_garment.vertices[faces].mean(dim=1), top_garment.vertices,
                               top_garment.cloth.boundary)
    centres = torch.as_tensor(bottom[faces.numpy()].mean(axis=1), dtype=top.dtype)[None]
    normals = vertex_normals(top, top_garment.cloth.faces)[None]
    out = ((covered_depths(centres, top[None], normals, layering)[0] < 0) & layering.covered).numpy()
    areas = face_areas(bottom, faces.numpy())
    return float(areas[out].sum() / max(areas.sum(), 1e-12))


def energies(cloth: ClothMesh, vertices: Tensor) -> dict[str, float]:
    return {"strain": float(strain_energy(cloth, vertices)), "bending": float(bending_energy(cloth, vertices)),
            "gravity": float(gravity_energy(cloth, vertices))}


def nearest_vertex_skinning(points: Tensor, rig, body_rest: Tensor, transforms: Tensor) -> Tensor:
    """The baseline: weights and shape displacement of the nearest canonical body vertex [B, N, 3]."""
    from inrzoo.cloth import nearest_indices

    index = nearest_indices(points, rig.canonical_vertices[None].expand(points.shape[0], -1, -1))
    weights = rig.weights[index]  # [B, N, J]
    shape = torch.gather(body_rest - rig.canonical_vertices, 1, index[..., None].expand(-1, -1, 3))
    return skin(points + shape, weights, transforms)


@dataclass
class OutfitDrapes:
    top: Tensor  # [N_top, 3]
    bottom: Tensor  # [N_bottom, 3]


@torch.no_grad()
def drape_outfit(model, rig, top, bottom, beta: Tensor, theta: Tensor, body,
                 reference: ReferenceSettings | None = None) -> dict[str, OutfitDrapes]:
    """The outfit draped each way on one body (rig output `body`, batch of one); the physics
    reference too when `reference` is given."""
    draper = model.draper
    out = {"skinning": OutfitDrapes(nearest_vertex_skinning(top.vertices[None], rig, body.rest_vertices, body.transforms)[0],
                                    nearest_vertex_skinning(bottom.vertices[None], rig, body.rest_vertices,
                                                            body.transforms)[0])}
    out["fields"] = OutfitDrapes(draper.skinning_baseline(top.vertices[None], beta, body.transforms)[0],
                                 draper.skinning_baseline(bottom.vertices[None], beta, body.transforms)[0])
    t = draper.drape("top", top.vertices[None], top.code[None], beta, theta, body.transforms)
    b = draper.drape("bottom", bottom.vertices[None], bottom.code[None], beta, theta, body.transforms)
    s = draper.drape("bottom", bottom.vertices[None], bottom.code[None], beta, theta, body.transforms,
                     top_codes=top.code[None], pose=b.pose)
    out["drapenet"] = OutfitDrapes(t.vertices[0], b.vertices[0])
    out["drapenet+is"] = OutfitDrapes(t.vertices[0], s.vertices[0])
    if reference is not None:
        skinned = out["skinning"]
        layering = outfit_layering(bottom.vertices, top.vertices, top.cloth.boundary)
        out[REFERENCE] = OutfitDrapes(*solve_outfit(
            top.cloth, bottom.cloth, skinned.top, skinned.bottom, bottom.pinned, layering, body.vertices,
            vertex_normals(body.vertices, rig.faces), reference, model.config.weights))
    return out


def outfit_metrics(drapes: OutfitDrapes, top, bottom, body_mesh: geometry.Mesh) -> dict[str, float]:
    top_v, bottom_v = drapes.top.double().numpy(), drapes.bottom.double().numpy()
    top_f, bottom_f = top.cloth.faces.numpy(), bottom.cloth.faces.numpy()
    top_area, bottom_area = face_areas(top_v, top_f).sum(), face_areas(bottom_v, bottom_f).sum()
    inside = (b2g(top_v, top_f, body_mesh) * top_area + b2g(bottom_v, bottom_f, body_mesh) * bottom_area)
    e_top, e_bottom = energies(top.cloth, drapes.top), energies(bottom.cloth, drapes.bottom)
    return {"b2g": float(inside / (top_area + bottom_area)),
            "g2g": g2g(bottom_v, drapes.top.double(), top, bottom),
            **{k: e_top[k] + e_bottom[k] for k in e_top}}


def evaluate(model, data, split: str = "test", batches: int | None = None, repeats: int = 1,
             reference: ReferenceSettings | None = None) -> dict[str, dict[str, float]]:
    """Mean metrics per method over the outfits of `split`, each worn `repeats` times by held-out
    bodies in held-out poses (the split's stream for epochs 0 .. repeats - 1); the physics
    reference's too when `reference` is given."""
    from inrzoo.zoo.drapenet.draping.model import shared_rig

    rig = shared_rig()
    sums: dict[str, dict[str, float]] = {m: {} for m in METHODS + ((REFERENCE,) if reference else ())}
    count = 0
    stream = (b for epoch in range(repeats) for b in data.batches(split, 1, epoch=epoch))
    for number, batch in enumerate(stream):
        if batches is not None and number >= batches:
            break
        body = rig(batch.beta, batch.theta)
        body_mesh = geometry.Mesh(body.vertices[0].double().numpy(), rig.faces.numpy())
        drapes = drape_outfit(model, rig, batch.tops[0], batch.bottoms[0], batch.beta, batch.theta, body, reference)
        for method, outfit in drapes.items():
            for key, value in outfit_metrics(outfit, batch.tops[0], batch.bottoms[0], body_mesh).items():
                sums[method][key] = sums[method].get(key, 0.0) + value
        count += 1
    return {m: {k: v / max(count, 1) for k, v in values.items()} for m, values in sums.items()}


@dataclass
class DrapeMetricsSettings:
    split: str = "test"
    outfits: int = 0  # 0: every outfit of the split


class DrapeMetricsTask(Task):
    """B2G, G2G and the energies of the trained model on held-out garments, bodies and poses."""

    name = "drape_metrics"
    config_class = DrapeMetricsSettings
    data_kind = "drape"

    def run(self, ctx: TaskContext, cfg: DrapeMetricsSettings) -> TaskOutcome:
        results = evaluate(ctx.model, ctx.data, cfg.split, cfg.outfits or None)
        metrics = {f"{method.replace('+', '_')}_{k}": v for method, values in results.items() for k, v in values.items()}
        return TaskOutcome(metrics)
