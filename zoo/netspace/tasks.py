"""NetSpace's own tasks (task units of the zoo core, on NetSpace zoo data):

- netspace_decoding: decoded networks against their targets on a held-out split (classifiers:
  accuracy and ClassId accuracy per architecture; SDF MLPs: mean |f - f_decoded| near the surface
  and the share of decoded MLPs with a zero level set in [-1, 1]^3);
- netspace_interpolation: paths between held-out networks in embedding space against the direct
  interpolation of their weights, a PNG strip and a metric (thesis figs. 4.5, 4.6);
- netspace_sampling: networks decoded from embeddings drawn around the training embeddings;
- netspace_latent: latent-space optimization (classifier spaces), initial -> optimized accuracy.

Metric names carry the architecture's position in the space (arch0, arch1, ...), the order of
the spec's `archs` (the ClassId order).
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from dataclasses import field as _field
from pathlib import Path

import torch

from inrzoo.render import pyplot, save_figure
from inrzoo.zoo.core.tasks import Task, TaskContext, TaskOutcome
from inrzoo.zoo.netspace.config import LatentOptimizationConfig
from inrzoo.zoo.netspace.evaluate import (
    decode_networks, embed, embedding_path, network_accuracy, sample_embeddings, split_networks, weight_path,
)
from inrzoo.zoo.netspace.latent import optimize_embedding
from inrzoo.zoo.netspace.model import decoded_arch_ids, run_decoded
from inrzoo.zoo.netspace.sdf_evaluate import (
    distinct_pairs, has_surface, path_strip, reconstruction_errors, sdf_paths,
)

log = logging.getLogger(__name__)


def _mean(values) -> float:
    values = [float(v) for v in values]
    return sum(values) / len(values) if values else float("nan")


class NetSpaceTask(Task):
    data_kind = "netspace_zoo"

    @staticmethod
    def held_out(ctx: TaskContext, split: str):
        nets = split_networks(ctx.data, split)
        if len(nets) == 0:
            raise ValueError(f"{ctx.data.section.uri}: the {split} split has no networks")
        return nets.__class__(nets.flat.to(ctx.device), nets.arch_ids.to(ctx.device), nets.ids, nets.metrics)


@dataclass
class DecodingSettings:
    split: str = "test"
    sdf_queries: int = 20_000  # SDF spaces: queries per MLP for the error


class DecodingTask(NetSpaceTask):
    name = "netspace_decoding"
    config_class = DecodingSettings

    def run(self, ctx: TaskContext, cfg: DecodingSettings) -> TaskOutcome:
        model, nets = ctx.model.to(ctx.device).eval(), self.held_out(ctx, cfg.split)
        if model.spec.kind == "sdf":
            errors, decoded = reconstruction_errors(model, nets.flat, cfg.sdf_queries)
            surfaced = [has_surface(model, decoded[k]) for k in range(len(nets))]
            return TaskOutcome({"decoded_error": float(errors.mean()), "decoded_error_median": float(errors.median()),
                                "decoded_with_surface": _mean(surfaced)})
        images = ctx.data.image_splits().to(ctx.device).test
        rows = decode_networks(model, nets, images)
        table = write_rows(ctx.out_dir / "netspace_decoding.csv", rows, model.spec.labels())
        metrics = {"target_accuracy": _mean(r.target_accuracy for r in rows),
                   "decoded_accuracy": _mean(r.decoded_accuracy for r in rows),
                   "accuracy_gap": _mean(abs(r.target_accuracy - r.decoded_accuracy) for r in rows),
                   "class_id_accuracy": _mean(r.decoded_arch == r.arch for r in rows)}
        metrics["decoded_to_target"] = metrics["decoded_accuracy"] / max(metrics["target_accuracy"], 1e-9)
        for a in range(len(model.archs)):
            mine = [r for r in rows if r.arch == a]
            metrics.update({f"arch{a}_class_id_accuracy": _mean(r.decoded_arch == a for r in mine),
                            f"arch{a}_target_accuracy": _mean(r.target_accuracy for r in mine),
                            f"arch{a}_decoded_accuracy": _mean(r.decoded_accuracy for r in mine)})
        return TaskOutcome(metrics, [table])


def write_rows(path: Path, rows, labels: list[str]) -> Path:
    """One line per held-out network: id, architecture, decoded architecture, target and decoded accuracy."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "arch", "decoded_arch", "target_accuracy", "decoded_accuracy"])
        for r in rows:
            writer.writerow([r.id, labels[r.arch], labels[r.decoded_arch], f"{r.target_accuracy:.4f}",
                             f"{r.decoded_accuracy:.4f}"])
    return path


@dataclass
class InterpolationSettings:
    split: str = "test"
    steps: int = 11  # points on each path, ends included
    pairs: int = 3  # SDF spaces: held-out pairs measured (the first is drawn)
    resolution: int = 48  # SDF strip: marching-cubes grid
    sdf_queries: int = 20_000


class InterpolationTask(NetSpaceTask):
    """Classifier spaces: one architecture, between the least and the most accurate held-out
    network (embedding path vs weight path); several, between the most accurate held-out networks
    of the two boundary architectures (the architecture chosen at each point). SDF spaces: pairs
    of held-out MLPs, the path error of sdf_evaluate, and a PNG strip of both paths."""

    name = "netspace_interpolation"
    config_class = InterpolationSettings

    def run(self, ctx: TaskContext, cfg: InterpolationSettings) -> TaskOutcome:
        model, nets = ctx.model.to(ctx.device).eval(), self.held_out(ctx, cfg.split)
        if model.spec.kind == "sdf":
            return self.sdf(ctx, cfg, model, nets)
        images = ctx.data.image_splits().to(ctx.device).test
        accuracy = lambda i: nets.metrics[i].get("test_accuracy", 0.0)  # noqa: E731
        if len(model.archs) == 1:
            order = sorted(range(len(nets)), key=accuracy)
            a, b = order[0], order[-1]
        else:
            a = max(nets.of_arch(0), key=accuracy)
            b = max(nets.of_arch(len(model.archs) - 1), key=accuracy)
        emb = embed(model, nets.flat[[a, b]])
        along = embedding_path(model, emb[0], emb[1], images, cfg.steps)
        inner = slice(1, -1)
        metrics = {"embedding_path_accuracy": _mean(p.accuracy for p in along[inner]),
                   "embedding_path_min_accuracy": min(p.accuracy for p in along)}
        direct = None
        if int(nets.arch_ids[a]) == int(nets.arch_ids[b]):
            direct = weight_path(model, nets.flat[a], nets.flat[b], int(nets.arch_ids[a]), images, cfg.steps)
            metrics.update(weight_path_accuracy=_mean(p.accuracy for p in direct[inner]),
                           weight_path_min_accuracy=min(p.accuracy for p in direct))
        else:
            changes = sum(1 for p, q in zip(along, along[1:]) if p.arch != q.arch)
            metrics.update(path_architectures=float(len({p.arch for p in along})), path_arch_changes=float(changes))
        figure = accuracy_strip(along, direct, model.spec.labels(), ctx.out_dir / "netspace_interpolation.png",
                                f"{nets.ids[a]} -> {nets.ids[b]}")
        return TaskOutcome(metrics, [figure])

    def sdf(self, ctx, cfg, model, nets) -> TaskOutcome:
        if len(nets) < 2:
            raise ValueError(f"{ctx.data.section.uri}: SDF interpolation needs 2+ held-out MLPs")
        pairs = distinct_pairs(nets.ids, cfg.pairs, torch.Generator().manual_seed(0))
        paths = [sdf_paths(model, nets.flat[a], nets.flat[b], cfg.steps, cfg.sdf_queries, seed=i)
                 for i, (a, b) in enumerate(pairs)]
        inner = slice(1, -1)
        metrics = {"embedding_path_error": _mean(e for p in paths for e in p.embedding_error[inner]),
                   "weight_path_error": _mean(e for p in paths for e in p.weight_error[inner]),
                   "embedding_end_error": _mean(e for p in paths for e in (p.embedding_error[0], p.embedding_error[-1]))}
        a, b = pairs[0]
        figure = path_strip(model, paths[0], ctx.out_dir / "netspace_interpolation.png", cfg.resolution,
                            f"{nets.ids[a]} -> {nets.ids[b]}")
        return TaskOutcome(metrics, [figure])


def accuracy_strip(along, direct, labels: list[str], out: Path, title: str) -> Path:
    """PNG: accuracy along the embedding path (points marked by the decoded architecture) and along
    the weight path when the ends share an architecture."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    g = [p.gamma for p in along]
    ax.plot(g, [p.accuracy for p in along], "-", color="tab:blue", label="embedding path")
    for arch in sorted({p.arch for p in along}):
        pts = [p for p in along if p.arch == arch]
        ax.scatter([p.gamma for p in pts], [p.accuracy for p in pts], s=25, label=f"decoded as {labels[arch]}")
    if direct is not None:
        ax.plot([p.gamma for p in direct], [p.accuracy for p in direct], "--", color="tab:red", label="weight path")
    ax.set_xlabel("gamma"), ax.set_ylabel("test accuracy"), ax.set_ylim(0, 1.02), ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="lower center")
    return save_figure(fig, out)


@dataclass
class SamplingSettings:
    count: int = 16
    seed: int = 0


class SamplingTask(NetSpaceTask):
    """Networks decoded from embeddings drawn around the training embeddings (evaluate.sample_embeddings)."""

    name = "netspace_sampling"
    config_class = SamplingSettings

    def run(self, ctx: TaskContext, cfg: SamplingSettings) -> TaskOutcome:
        model, train = ctx.model.to(ctx.device).eval(), self.held_out(ctx, "train")
        embeddings = sample_embeddings(embed(model, train.flat), cfg.count, cfg.seed)
        with torch.no_grad():
            decoded, logits = model.decode(embeddings)
        used = decoded_arch_ids(logits, cfg.count, decoded.device)
        if model.spec.kind == "sdf":
            surfaced = [has_surface(model, decoded[k]) for k in range(cfg.count)]
            return TaskOutcome({"sampled_with_surface": _mean(surfaced)})
        images = ctx.data.image_splits().to(ctx.device).test
        accs = [network_accuracy(decoded[k], int(used[k]), model.archs, images) for k in range(cfg.count)]
        metrics = {"sampled_accuracy": _mean(accs), "sampled_min_accuracy": min(accs),
                   "sampled_max_accuracy": max(accs)}
        metrics.update({f"sampled_arch{a}_share": _mean(int(u) == a for u in used) for a in range(len(model.archs))})
        return TaskOutcome(metrics)


@dataclass
class LatentSettings:
    split: str = "test"
    optimization: LatentOptimizationConfig = _field(default_factory=LatentOptimizationConfig)


class LatentTask(NetSpaceTask):
    """From the least accurate held-out network of each architecture: the embedding optimized under
    L_kd against the zoo's fixed teacher (+ L_class toward that architecture), initial -> optimized
    test accuracy of the decoded network."""

    name = "netspace_latent"
    config_class = LatentSettings

    def run(self, ctx: TaskContext, cfg: LatentSettings) -> TaskOutcome:
        model, nets = ctx.model.to(ctx.device).eval(), self.held_out(ctx, cfg.split)
        if model.spec.kind != "classifier":
            raise ValueError("netspace_latent optimizes classifiers (an SDF MLP has no KD target)")
        data = ctx.data.image_splits().to(ctx.device)
        teacher_flat, teacher_arch = (t.to(ctx.device) for t in ctx.data.teacher())
        teacher_prep = model.preps(teacher_flat)
        teacher = lambda images: run_decoded(teacher_prep, teacher_arch, model.archs, images)[0]  # noqa: E731
        several = len(model.archs) > 1
        metrics = {}
        for a in range(len(model.archs)):
            members = nets.of_arch(a)
            if not members:
                continue
            start = min(members, key=lambda i: nets.metrics[i].get("test_accuracy", 0.0))
            result = optimize_embedding(model, embed(model, nets.flat[[start]])[0], teacher, data,
                                        target_arch=a if several else None, cfg=cfg.optimization,
                                        loss_cfg=model.config.loss)
            metrics.update({f"arch{a}_input_accuracy": nets.metrics[start].get("test_accuracy", float("nan")),
                            f"arch{a}_initial_accuracy": result.initial["test_accuracy"],
                            f"arch{a}_optimized_accuracy": result.test_accuracy,
                            f"arch{a}_optimized_is_arch": float(result.arch == a)})
            log.info("latent optimization arch %d from %s: %.3f -> %.3f", a, nets.ids[start],
                     result.initial["test_accuracy"], result.test_accuracy)
        metrics["initial_accuracy"] = _mean(v for k, v in metrics.items() if k.endswith("_initial_accuracy"))
        metrics["optimized_accuracy"] = _mean(v for k, v in metrics.items() if k.endswith("_optimized_accuracy"))
        return TaskOutcome(metrics)
