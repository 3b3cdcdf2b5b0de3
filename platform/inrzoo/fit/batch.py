"""fit_batch: one INR per shape, many shapes at once, with Davies' error-driven escalation.

Shapes whose samples are unusable are marked failed before fitting; a shape whose loss
diverges is marked failed during it; neither changes what the other shapes get. With
per-shape surface points, a shape whose surface error (mean |f| there, Davies) misses the
target is refit with the next architecture of the ladder.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from inrzoo.fit.config import FitConfig
from inrzoo.fit.engine import fit_group
from inrzoo.fit.losses import FitLoss, make_loss
from inrzoo.fit.presets import preset
from inrzoo.fit.inputs import check_samples, check_surface
from inrzoo.inr import ArchSpec, Architecture, Params, build, select_params, stack_params

FAILED = "failed"
OK = "ok"


@dataclass
class FitResult:
    """Per shape (in input order): parameters, architecture after escalation, status, error,
    metrics (loss, steps, epochs, seconds, lr, surface_error), stop reason, escalation log, and
    what ran the MLP for the kept fit ("torch" or "fused-<precision>"; "" if none ran)."""

    shape_params: list[Params]
    arch: list[ArchSpec]
    status: list[str]
    errors: list[str | None]
    metrics: list[dict[str, float]]
    stop_reasons: list[str] = field(default_factory=list)
    escalations: list[list[str]] = field(default_factory=list)
    config: FitConfig | None = None
    kernels: list[str] = field(default_factory=list)

    @property
    def params(self) -> Params:
        """Stacked {name: [K, ...]} when every shape has the same architecture."""
        labels = {a.to_json() for a in self.arch}
        if len(labels) != 1:
            raise ValueError(
                f"FitResult.params: shapes ended with {len(labels)} architectures after escalation; "
                "use by_arch() or shape_params"
            )
        return stack_params(self.shape_params)

    def by_arch(self) -> list[tuple[ArchSpec, list[int], Params]]:
        """(spec, shape indices, stacked params) per distinct architecture."""
        groups: dict[str, list[int]] = {}
        for i, spec in enumerate(self.arch):
            groups.setdefault(spec.to_json(), []).append(i)
        return [
            (self.arch[idx[0]], idx, stack_params([self.shape_params[i] for i in idx])) for idx in groups.values()
        ]


def fit_batch(
    samples: Sequence,
    config: FitConfig | str,
    *,
    surface: Sequence[np.ndarray | None] | None = None,
    stream_ids: Sequence[int] | None = None,
) -> FitResult:
    """Fit one INR per Samples. stream_ids (default 0..K-1) seed each shape's batch stream
    together with config.seed: pass the shapes' dataset indices so results do not depend on
    how shapes are grouped into batches."""
    cfg = preset(config) if isinstance(config, str) else config
    k = len(samples)
    if k == 0:
        raise ValueError("fit_batch: no shapes given")
    stream_ids = list(range(k)) if stream_ids is None else [int(s) for s in stream_ids]
    if len(stream_ids) != k or (surface is not None and len(surface) != k):
        raise ValueError(f"fit_batch: {k} shapes but {len(stream_ids)} stream ids / surface sets")
    fields = {s.field for s in samples}
    if len(fields) != 1:
        raise ValueError(f"fit_batch: one loss per batch, but the shapes mix fields {sorted(fields)}")
    if cfg.num_threads > 0:
        torch.set_num_threads(cfg.num_threads)
    loss_fn = make_loss(cfg.loss, fields.pop())
    ladder = [cfg.arch, *cfg.escalation.ladder]

    errors = [check_samples(s, cfg) or (check_surface(surface[i]) if surface is not None else None) for i, s in enumerate(samples)]
    metrics: list[dict[str, float]] = [{"seconds": 0.0, "surface_error": math.nan} for _ in range(k)]
    stop_reasons = ["invalid_input" if e else "" for e in errors]
    escalations: list[list[str]] = [[] for _ in range(k)]
    chosen = [cfg.arch] * k
    kernels = [""] * k
    shape_params: list[Params | None] = [None] * k

    pending = [i for i in range(k) if errors[i] is None]
    for rung, spec in enumerate(ladder):
        if not pending:
            break
        arch = build(spec)
        group = fit_group(
            arch,
            [np.asarray(samples[i].points) for i in pending],
            [np.asarray(samples[i].values) for i in pending],
            [stream_ids[i] for i in pending],
            loss_fn,
            cfg,
            surface=[surface[i] for i in pending] if surface is not None else None,
        )
        can_escalate = surface is not None and rung + 1 < len(ladder)
        errs = surface_errors(arch, group.params, [surface[i] for i in pending], loss_fn) if surface is not None else None
        target = cfg.escalation.target_surface_error
        next_pending = []
        for j, i in enumerate(pending):
            rec = group.records[j]
            metrics[i]["seconds"] += rec.seconds
            if rec.failed and rung > 0:
                # A larger rung that fails leaves the earlier, successful fit in place.
                escalations[i].append(f"{spec.label}: {rec.failed}; kept {chosen[i].label}")
                continue
            err = float(errs[j]) if errs is not None else math.nan
            # Past the first rung, a refit only replaces the kept one when it is better.
            if rung == 0 or err < metrics[i]["surface_error"]:
                chosen[i], kernels[i] = spec, group.kernel
                shape_params[i] = select_params(group.params, j)
                metrics[i].update(loss=rec.loss, steps=rec.steps, epochs=rec.epochs, lr=rec.lr, surface_error=err)
                stop_reasons[i] = rec.stop_reason
            elif not can_escalate:
                escalations[i].append(f"{spec.label}: surface error {err:.4g} not lower; kept {chosen[i].label}")
            if rec.failed:
                errors[i] = rec.failed
            elif err > target:
                why = f"{spec.label}: surface error {err:.4g} > target {target:g}"
                escalations[i].append(why + (f"; refit with {ladder[rung + 1].label}" if can_escalate else "; ladder exhausted"))
                if can_escalate:
                    next_pending.append(i)
        pending = next_pending

    # Failed shapes get NaN parameters of their architecture, so nothing mistakes them for a fit.
    dtype = getattr(torch, cfg.dtype)
    status = [FAILED if errors[i] else OK for i in range(k)]
    for i in range(k):
        if errors[i]:
            shapes = build(chosen[i]).param_shapes()
            shape_params[i] = {n: torch.full(s, math.nan, dtype=dtype, device=cfg.device) for n, s in shapes.items()}
    return FitResult(shape_params, chosen, status, errors, metrics, stop_reasons, escalations, cfg,  # type: ignore[arg-type]
                     kernels)


@torch.no_grad()
def surface_errors(
    arch: Architecture, params: Params, surface: Sequence[np.ndarray], loss_fn: FitLoss, chunk: int = 65_536
) -> np.ndarray:
    """Davies' surface error per shape: mean |f| (decoded to the field's units) at its surface points."""
    out = np.zeros(len(surface))
    ref = next(iter(params.values()))
    for j, pts in enumerate(surface):
        one = select_params(params, [j])
        pts_t = torch.as_tensor(np.asarray(pts), dtype=ref.dtype, device=ref.device)
        total = 0.0
        for s in range(0, len(pts_t), chunk):
            f = loss_fn.decode(arch.forward(one, pts_t[s : s + chunk].unsqueeze(0)))
            total += float(f.abs().sum())
        out[j] = total / max(len(pts_t), 1)
    return out
