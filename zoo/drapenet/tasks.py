"""DrapeNet's own tasks (task registry, data kind "garments"): reconstruction, interpolation,
latent editing and fitting a code to a point cloud. Each returns metrics and a PNG.

    inrzoo task garment_editing --model models:/drapenet-tops@champion --config zoo/configs/drapenet/smoke.yaml
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import trimesh

from inrzoo import geometry
from inrzoo.garments.clip import clip_mesh
from inrzoo.zoo.core.tasks import Task, TaskContext, TaskOutcome
from inrzoo.zoo.drapenet import evaluate as ev
from inrzoo.zoo.drapenet.editing import attribute_direction, edit_strip, extreme_classes, interpolation_strip
from inrzoo.zoo.drapenet.fitting import FitCodeConfig, fit_code

log = logging.getLogger(__name__)


def _model(ctx: TaskContext):
    return ctx.model.to(ctx.device).eval()


def held_out(model, data, minimum: int = 1) -> tuple[list[dict], np.ndarray]:
    """(items, codes) of the test split (the train split when it has fewer than `minimum` garments)."""
    split = "test" if data.split_sizes()["test"] >= minimum else "train"
    return data.rows_info(split), ev.encode_split(model, data, split).numpy()


@dataclass
class ReconstructionSettings:
    garments: int = 16  # held-out garments reconstructed (the first of the test split)
    resolution: int = 128  # MeshUDF grid over the category's box
    points: int = 20_000  # points per mesh for Chamfer and F-score
    tau: float = 0.01  # F-score threshold (garment frame; ~1.1 cm)
    baseline: bool = True  # also score the nearest training garment


class GarmentReconstructionTask(Task):
    name = "garment_reconstruction"
    config_class = ReconstructionSettings
    data_kind = "garments"

    def run(self, ctx: TaskContext, cfg: ReconstructionSettings) -> TaskOutcome:
        model, data = _model(ctx), ctx.data
        info, codes = held_out(model, data)
        info, codes = info[: cfg.garments], codes[: cfg.garments]
        meshes = ev.reconstruct_codes(model, codes, data.spec().category, cfg.resolution)
        train = [geometry.load(item["uri"], kind="mesh") for item in data.rows_info("train")] if cfg.baseline else []
        rows = []
        for item, mesh in zip(info, meshes):
            truth = geometry.load(item["uri"], kind="mesh")
            row = ev.scores(mesh, truth, cfg.points, cfg.tau)
            if cfg.baseline:
                nearest = ev.nearest_training(truth, train, cfg.points, cfg.tau)
                row.update(nearest_chamfer=nearest["chamfer"], nearest_fscore=nearest["fscore"])
            rows.append(row)
        found = [r["chamfer"] for r in rows if np.isfinite(r["chamfer"])]
        metrics = {"garment_chamfer": float(np.mean(found)) if found else float("nan"),
                   "garment_fscore": float(np.mean([r["fscore"] for r in rows])),
                   "garment_empty": float(np.mean([not len(m.faces) for m in meshes]))}
        if cfg.baseline:
            metrics["nearest_train_chamfer"] = float(np.mean([r["nearest_chamfer"] for r in rows]))
            metrics["nearest_train_fscore"] = float(np.mean([r["nearest_fscore"] for r in rows]))
        ctx.out_dir.mkdir(parents=True, exist_ok=True)
        shown = [(item["label"], [_trimesh(geometry.load(item["uri"], kind="mesh")), mesh])
                 for item, mesh in list(zip(info, meshes))[:4]]
        figure = ev.strip_figure(shown, ctx.out_dir / "garment_reconstruction.png")
        return TaskOutcome(metrics, [figure])


@dataclass
class InterpolationSettings:
    steps: int = 5
    resolution: int = 128


class GarmentInterpolationTask(Task):
    name = "garment_interpolation"
    config_class = InterpolationSettings
    data_kind = "garments"

    def run(self, ctx: TaskContext, cfg: InterpolationSettings) -> TaskOutcome:
        model, data = _model(ctx), ctx.data
        info, codes = held_out(model, data, minimum=2)
        # Between the first garment and the first one of another type.
        other = next((i for i, item in enumerate(info) if item["label"] != info[0]["label"]), len(info) - 1)
        meshes = ev.reconstruct_codes(model, interpolation_strip(codes[0], codes[other], cfg.steps),
                                      data.spec().category, cfg.resolution)
        ctx.out_dir.mkdir(parents=True, exist_ok=True)
        figure = ev.strip_figure([(f"{info[0]['label']} -> {info[other]['label']}", meshes)],
                                 ctx.out_dir / "garment_interpolation.png")
        return TaskOutcome({"interpolation_nonempty": float(np.mean([len(m.faces) > 0 for m in meshes]))}, [figure])


@dataclass
class EditingSettings:
    """Thesis: a logistic regression per attribute on the codes, weights normalized and thresholded
    at 0.5, steps along them. Defaults: longer sleeves on a T-shirt (tops)."""

    attribute: str = "sleeve"  # a garment parameter (inrzoo.garments.params)
    types: list[str] = field(default_factory=list)  # garment types whose codes train the direction (all: [])
    fraction: float = 0.3  # lowest / highest share of the attribute's values: the two classes
    threshold: float = 0.5
    start: str = "tshirt"  # edit the held-out garment of this type that is furthest from class 1
    steps: int = 4
    step_size: float = 0.5
    measure: Literal["reach", "hem"] = "reach"  # what the strip reports: sleeve reach or hem height
    resolution: int = 128


class GarmentEditingTask(Task):
    name = "garment_editing"
    config_class = EditingSettings
    data_kind = "garments"

    def run(self, ctx: TaskContext, cfg: EditingSettings) -> TaskOutcome:
        model, data = _model(ctx), ctx.data
        train = data.rows_info("train")
        values = ev.attribute_values([item["params"] for item in train], cfg.attribute)
        if cfg.types:
            values[[item["label"] not in cfg.types for item in train]] = np.nan
        chosen, classes = extreme_classes(values, cfg.fraction)
        codes = ev.encode_split(model, data, "train").numpy()
        direction = attribute_direction(codes[chosen], classes, cfg.threshold)
        info, held_codes = held_out(model, data)
        # Start from the garment of the start type with the lowest value (class 0's side).
        candidates = [i for i, item in enumerate(info) if item["label"] == cfg.start] or [0]
        start = min(candidates, key=lambda i: info[i]["params"].get(cfg.attribute, np.inf))
        meshes = ev.reconstruct_codes(model, edit_strip(held_codes[start], direction, cfg.steps, cfg.step_size),
                                      data.spec().category, cfg.resolution)
        measure = ev.sleeve_reach if cfg.measure == "reach" else ev.hem_height
        values = [measure(mesh) for mesh in meshes]
        ctx.out_dir.mkdir(parents=True, exist_ok=True)
        figure = ev.strip_figure([(f"editing {cfg.attribute} from {info[start]['label']}", meshes)],
                                 ctx.out_dir / f"garment_editing_{cfg.attribute}.png")
        return TaskOutcome({"editing_start": values[0], "editing_end": values[-1],
                            "editing_change": values[-1] - values[0],
                            "editing_direction_nonzero": float(np.count_nonzero(direction))}, [figure])


@dataclass
class FittingSettings:
    """Thesis: a code fitted to a point cloud by Chamfer with Adam (lr 0.01) from the mean code."""

    # Mesh URI(s) to sample point clouds from, each fitted and scored on its own; "": the first
    # held-out garment.
    target: str | list[str] = ""
    frame: Literal["garment", "makehuman"] = "garment"  # makehuman: a MakeHuman/anny proxy (dm, y up)
    # Keep only the part of each target at or below this height, in the target's own frame (its up
    # axis: y for makehuman, z for garment); None keeps it whole. E.g. the tights proxy cut at the
    # skirt proxy's waist (1.84 dm) is a pair of leggings, a bottom.
    below: float | None = None
    points: int = 5000
    fit: FitCodeConfig = field(default_factory=FitCodeConfig)
    resolution: int = 128
    tau: float = 0.01


class GarmentFittingTask(Task):
    name = "garment_fitting"
    config_class = FittingSettings
    data_kind = "garments"

    def run(self, ctx: TaskContext, cfg: FittingSettings) -> TaskOutcome:
        """Metrics per target; with several targets each name ends in _<target's file stem>, and
        the plain names hold the mean over the targets."""
        model, data = _model(ctx), ctx.data
        mean = ev.encode_split(model, data, "train").mean(dim=0)
        targets = _targets(ctx, cfg)
        per_target, rows = [], []
        for name, target_mesh in targets:
            metrics, meshes = _fit_one(model, data.spec().category, mean, target_mesh, cfg)
            per_target.append(metrics)
            rows.append((f"{name}: target; mean code; encoder; fitted", meshes))
        metrics = {key: float(np.mean([m[key] for m in per_target])) for key in per_target[0]}
        if len(targets) > 1:
            for (name, _), target_metrics in zip(targets, per_target):
                metrics.update({f"{key}_{name}": value for key, value in target_metrics.items()})
        ctx.out_dir.mkdir(parents=True, exist_ok=True)
        return TaskOutcome(metrics, [ev.strip_figure(rows, ctx.out_dir / "garment_fitting.png")])


def _fit_one(model, category: str, mean: torch.Tensor, target_mesh: geometry.Mesh,
             cfg: FittingSettings) -> tuple[dict[str, float], list]:
    """Scores of the mean code, the encoder's code and the fitted code against one target mesh."""
    target = ev.surface_cloud(target_mesh, cfg.points, seed=3)
    with torch.no_grad():
        device = next(model.parameters()).device
        encoded = model.encode(torch.as_tensor(target[None], dtype=torch.float32, device=device))[0].cpu()
    try:
        fitted, losses = fit_code(model, target, mean, cfg.fit)
    except ValueError as exc:  # an undertrained model may decode the mean code to no surface at all
        log.warning("garment_fitting: %s", exc)
        fitted, losses = mean, [float("nan")]
    metrics, meshes = {"fit_loss_first": losses[0], "fit_loss_last": losses[-1]}, [_trimesh(target_mesh)]
    for name, code in (("mean", mean), ("encoder", encoded), ("fitted", fitted.cpu())):
        mesh = ev.reconstruct_codes(model, [code], category, cfg.resolution)[0]
        score = ev.scores(mesh, target_mesh, 20_000, cfg.tau)
        metrics[f"fit_chamfer_{name}"], metrics[f"fit_fscore_{name}"] = score["chamfer"], score["fscore"]
        meshes.append(mesh)
    return metrics, meshes


def _targets(ctx: TaskContext, cfg: FittingSettings) -> list[tuple[str, geometry.Mesh]]:
    """(name, mesh) of each garment to fit, in the garment frame of the body the data was made on."""
    uris = [cfg.target] if isinstance(cfg.target, str) else list(cfg.target)
    if uris == [""]:
        split = "test" if ctx.data.split_sizes()["test"] else "train"  # as held_out() picks it
        item = ctx.data.rows_info(split)[0]
        mesh = geometry.load(item["uri"], kind="mesh")
        return [(item["label"], _in_garment_frame(ctx, mesh, replace(cfg, frame="garment")))]  # made in that frame
    if not uris or "" in uris:
        raise ValueError(f"garment_fitting.target: name one mesh or several, got {cfg.target!r}")
    names = [Path(uri).stem for uri in uris]
    if len(set(names)) < len(names):
        raise ValueError(f"garment_fitting.target: the targets' file names must differ (they name the metrics), "
                         f"got {uris}")
    return [(name, _in_garment_frame(ctx, geometry.load(uri, kind="mesh"), cfg)) for name, uri in zip(names, uris)]


def _in_garment_frame(ctx: TaskContext, mesh: geometry.Mesh, cfg: FittingSettings) -> geometry.Mesh:
    vertices, faces = np.asarray(mesh.vertices, dtype=np.float64), np.asarray(mesh.faces)
    if cfg.below is not None:
        vertices, faces = clip_mesh(vertices, faces, cfg.below - vertices[:, 1 if cfg.frame == "makehuman" else 2])
        if not len(faces):
            raise ValueError(f"garment_fitting.below: nothing of {mesh.source} lies below {cfg.below}")
    if cfg.frame == "garment":
        return geometry.Mesh(vertices, faces, source=mesh.source)
    from inrzoo.bodies import Body, makehuman_to_anny

    body = Body.load(ctx.data.record.collection.rstrip("/") + "/body.npz")
    return geometry.Mesh(body.garment_frame().apply(makehuman_to_anny(vertices)), faces, source=mesh.source)


def _trimesh(mesh) -> trimesh.Trimesh:
    return trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)
