"""Ray queries on fields, batched over rows (K fields) and rays.

Sphere tracing (Hart 1996) with Lipschitz-safe steps: at a point p, no surface lies within
rho = max(|level(p)| / L, |p| - R) (L: the row's Lipschitz bound, R: the domain ball, outside
which the field is not drawn), so a ray may advance by rho. Bundles of rays (a tile of pixels)
are traced first as one cone or cylinder: a member ray's point at parameter t lies within
spread(t) = r0 + t * alpha of the bundle axis' point (r0: largest origin offset, alpha: largest
|d_i - d_axis|), so the axis may advance by (rho - spread) / (1 + alpha) for all members at once
(chosen: "cone marching", tiles of 16 then 4 pixels, each level starting where its parent
stopped). Rays then finish alone and stop where rho falls below half a pixel's footprint, and a
Newton step along the ray places the hit on the level set.
Occupancy fields have no useful Lipschitz bound (their logits are steep at the surface), so they
are ray-marched at a fixed step (chosen: 1/256 of the domain's diameter) and the first inside
sample is bisected against the previous one (10 halvings): the method of occupancy-network
renderers, which can step over features thinner than the step.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import torch

from inrzoo.fields.base import Field

log = logging.getLogger(__name__)

EVAL_CHUNK = 65_536  # points per forward call (larger batches ran slower per point on CPU)
ACTIVE, CONVERGED, MISSED, INSIDE = 0, 1, 2, 3
MARCH_STEPS = 256
BUNDLE_STEPS = 32  # chosen: bundles near silhouettes creep; their members finish the work
RELAX = 1.6
CONVERGE = 1.0  # chosen: a ray hits where |level| < its tolerance (half a pixel's footprint), the
# classic sphere-tracing test: for SDF-like fields the surface is within about that distance  # chosen: over-relaxation of single rays (Keinert et al. 2014 use 1.2-1.9)
BISECTIONS = 10


# --- ragged evaluation: points of many rows, padded into one [P, n, 3] batch ------------------------
def _batches(field: Field, rows: torch.Tensor):
    """(sub-field, batch row [M], position in it [M], longest row, chunk width) for points of `rows`."""
    counts = torch.bincount(rows, minlength=field.rows)
    present = counts.nonzero().squeeze(1)
    sub = field if len(present) == field.rows else field.select(present.tolist())
    remap = torch.full((field.rows,), -1, dtype=torch.long)
    remap[present] = torch.arange(len(present))
    order = torch.argsort(rows, stable=True)
    starts = torch.cumsum(counts, 0) - counts
    slot = torch.empty_like(rows)
    slot[order] = torch.arange(len(rows)) - starts[rows[order]]
    width = max(1, EVAL_CHUNK // max(len(present), 1))
    return sub, remap[rows], slot, int(counts.max()), width


def evaluate(fn: Callable[[Field, torch.Tensor], torch.Tensor], field: Field, points: torch.Tensor,
             rows: torch.Tensor, gradient: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
    """fn(field, x [P, n, 3]) -> [P, n] at points [M, 3] of rows [M]; with gradient, also d fn/d x [M, 3]."""
    out = torch.empty(len(points))
    grad = torch.empty(len(points), 3) if gradient else None
    if len(points) == 0:
        return out, grad
    if field.rows > 1:
        present = torch.unique(rows)
        if len(present) == 1:
            return evaluate(fn, field.select(present.tolist()), points, torch.zeros_like(rows), gradient)
    else:  # one field: contiguous chunks, no padding
        for start in range(0, len(points), EVAL_CHUNK):
            x = points[start:start + EVAL_CHUNK].unsqueeze(0)
            if gradient:
                with torch.enable_grad():
                    x.requires_grad_(True)
                    values = fn(field, x)
                    (dx,) = torch.autograd.grad(values.sum(), x)
                grad[start:start + EVAL_CHUNK] = dx[0]
            else:
                values = fn(field, x)
            out[start:start + EVAL_CHUNK] = values.detach()[0]
        return out, grad
    sub, batch_row, slot, longest, width = _batches(field, rows)
    for start in range(0, longest, width):
        if longest <= width:
            members = torch.arange(len(points))
        else:
            members = ((slot >= start) & (slot < start + width)).nonzero().squeeze(1)
        r, s = batch_row[members], slot[members] - start
        x = torch.zeros(sub.rows, min(width, longest - start), 3)
        x[r, s] = points[members]
        if gradient:
            with torch.enable_grad():
                x.requires_grad_(True)
                values = fn(sub, x)
                (dx,) = torch.autograd.grad(values.sum(), x)
            grad[members] = dx[r, s]
            values = values.detach()
        else:
            values = fn(sub, x)
        out[members] = values[r, s]
    return out, grad


def level(field: Field, x: torch.Tensor) -> torch.Tensor:
    return field.level(x)


# --- rays ----------------------------------------------------------------------------------------------
@dataclass
class Rays:
    """M rays (or bundles): row of the field, origin, unit direction, start and end parameters,
    and the spread r0 + t * alpha within which member rays lie (0 for single rays)."""

    rows: torch.Tensor
    origins: torch.Tensor
    directions: torch.Tensor
    t: torch.Tensor
    t_far: torch.Tensor
    r0: torch.Tensor | None = None
    alpha: torch.Tensor | None = None

    def points(self, index: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.origins[index] + t[:, None] * self.directions[index]


def ball_interval(origins: torch.Tensor, directions: torch.Tensor, radius: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(t_near, t_far) of each ray through the ball of `radius` about the origin; t_far < t_near
    where the ray misses it. t_near is clamped at 0 (origins inside the ball)."""
    b = (origins * directions).sum(-1)
    c = (origins * origins).sum(-1) - radius**2
    disc = b * b - c
    root = disc.clamp_min(0).sqrt()
    near, far = (-b - root).clamp_min(0), -b + root
    return near, torch.where(disc > 0, far, torch.full_like(far, -1.0))


def sphere_trace(field: Field, rays: Rays, *, tolerance: float = 0.0, tolerance_per_t: float = 0.0,
                 max_steps: int | None = None, relax: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """March every ray (or bundle) by Lipschitz-safe steps; returns (t [M], status [M]).

    A ray stops (CONVERGED, a hit) once |level| < CONVERGE x (tolerance + tolerance_per_t x t)
    (not |level| / L: a loose bound would stop rays far short of the surface); a ray that keeps
    marching advances by at least that over L per step, so every ray ends. A bundle stops once its
    safe step falls below its spread. INSIDE where the level is negative inside the domain; MISSED
    past t_far. With max_steps, rays still marching then stay ACTIVE (bundles use this: where a
    bundle stops, its members can still start).
    relax > 1: Keinert et al.'s over-relaxed sphere tracing (single rays only): step relax x free;
    when the next point's free ball does not overlap the previous one, go back and take the plain
    step from there with relax 1 for the rest of the ray. Overlapping balls cover the segment, so
    the safety of the plain steps is kept.
    """
    bundle = rays.r0 is not None
    t_out = rays.t.clone()
    status = torch.full((len(t_out),), ACTIVE, dtype=torch.long)
    status[t_out > rays.t_far] = MISSED
    index = (status == ACTIVE).nonzero().squeeze(1)
    # the state of the marching rays, compacted as rays finish
    state = {"o": rays.origins[index], "d": rays.directions[index], "rows": rays.rows[index],
             "far": rays.t_far[index], "t": rays.t[index].clone(), "lip": field.lipschitz()[rays.rows[index]]}
    if bundle:
        state.update(r0=rays.r0[index], alpha=rays.alpha[index])
    omega = torch.full((len(index),), 1.0 if bundle else float(relax))
    state.update(omega=omega, prev_t=state["t"].clone(), prev_free=torch.zeros(len(index)))
    margin = 1e-5 * field.radius  # a ray starts on the domain ball: rounding may put it just outside
    steps = 0
    while len(index) and (max_steps is None or steps < max_steps):
        steps += 1
        t = state["t"]
        p = state["o"] + t[:, None] * state["d"]
        h, _ = evaluate(level, field, p, state["rows"])
        outside = p.norm(dim=1) - field.radius
        free = torch.maximum(h.abs() / state["lip"], outside)
        inside = (h < 0) & (outside <= margin)
        if bundle:  # every member ray stays within spread of the axis over the step
            spread = state["r0"] + t * state["alpha"]
            step = (free - spread) / (1.0 + state["alpha"])
            near = step < spread
            failed = torch.zeros_like(inside)
            safe = step
        else:
            gap = (t - state["prev_t"]) > state["prev_free"] + free
            failed = (state["omega"] > 1.0) & (gap | inside) & (t > state["prev_t"])
            step, safe = state["omega"] * free, free
            near = (h.abs() < CONVERGE * (tolerance + tolerance_per_t * t)) & (outside <= margin)
        converged = ~failed & ~inside & near
        inside &= ~failed
        missed = ~failed & ~inside & ~converged & (t + safe > state["far"])
        done = inside | converged | missed
        code = torch.where(inside, INSIDE, torch.where(converged, CONVERGED, MISSED))
        status[index[done]] = code[done]
        t_out[index[done]] = t[done]
        # a failed ray goes back to its last validated point and takes the plain step from there
        after = torch.where(failed, state["prev_t"] + state["prev_free"], torch.minimum(t + step, state["far"]))
        validated = ~failed
        state["prev_t"] = torch.where(validated, t, state["prev_t"])
        state["prev_free"] = torch.where(validated, free, state["prev_free"])
        state["omega"] = torch.where(failed, torch.ones_like(free), state["omega"])
        state["t"] = after
        keep = ~done
        index = index[keep]
        state = {name: value[keep] for name, value in state.items()}
    t_out[index] = state["t"]
    log.debug("sphere tracing: %d rays in %d steps, %d still marching", len(t_out), steps, len(index))
    return t_out, status


def march_bisect(field: Field, rays: Rays, step: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Fixed-step march to the first sample with level < 0, then bisection; (t, status)."""
    t = rays.t.clone()
    status = torch.full((len(t),), ACTIVE, dtype=torch.long)
    active = torch.arange(len(t))
    while len(active):
        h, _ = evaluate(level, field, rays.points(active, t[active]), rays.rows[active])
        inside = h < 0
        status[active[inside]] = INSIDE
        t[active[~inside]] += step
        missed = ~inside & (t[active] > rays.t_far[active])
        status[active[missed]] = MISSED
        active = active[~inside & ~missed]
    hit = (status == INSIDE).nonzero().squeeze(1)
    low, high = (t[hit] - step).clamp_min(rays.t[hit]), t[hit].clone()
    for _ in range(BISECTIONS):
        mid = 0.5 * (low + high)
        h, _ = evaluate(level, field, rays.points(hit, mid), rays.rows[hit])
        low, high = torch.where(h < 0, low, mid), torch.where(h < 0, mid, high)
    t[hit] = high
    status[hit] = CONVERGED
    return t, status


# --- bundles ------------------------------------------------------------------------------------------
def bundles(keys: torch.Tensor, rays: Rays) -> tuple[Rays, torch.Tensor]:
    """One bundle per distinct key (e.g. row * tiles + tile) over the member rays: axis through
    the mean origin along the mean direction, spread bounds, earliest start, latest end.
    Returns the bundles and each member's bundle index."""
    unique, member = torch.unique(keys, return_inverse=True)
    n = len(unique)

    def reduce(values: torch.Tensor, how: str) -> torch.Tensor:
        shape = (n, *values.shape[1:])
        init = {"sum": 0.0, "amax": -torch.inf, "amin": torch.inf}[how]
        index = member.view(-1, *([1] * (values.dim() - 1))).expand_as(values)
        return torch.full(shape, init).scatter_reduce(0, index, values, how, include_self=True)

    counts = torch.bincount(member, minlength=n).to(torch.float32)
    origin = reduce(rays.origins, "sum") / counts[:, None]
    direction = reduce(rays.directions, "sum")
    direction = direction / direction.norm(dim=1, keepdim=True).clamp_min(1e-12)
    r0 = reduce((rays.origins - origin[member]).norm(dim=1), "amax")
    alpha = reduce((rays.directions - direction[member]).norm(dim=1), "amax")
    rows = torch.zeros(n, dtype=torch.long).scatter(0, member, rays.rows)
    axis = Rays(rows, origin, direction, reduce(rays.t, "amin"), reduce(rays.t_far, "amax"), r0, alpha)
    return axis, member


def trace(field: Field, rays: Rays, tiles: list[torch.Tensor], *, tolerance: float = 0.0,
          tolerance_per_t: float = 0.0, max_steps: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Trace rays through bundle levels (each a tile id per ray, coarse to fine), then one by one.

    tolerance + tolerance_per_t x t: how close to a surface a single ray stops (a pixel's footprint
    grows with t)."""
    if field.kind == "occupancy":
        return march_bisect(field, rays, 2.0 * field.radius / MARCH_STEPS)
    start = rays.t.clone()
    for tile in tiles:
        axis, member = bundles(rays.rows * (int(tile.max()) + 1) + tile, Rays(
            rays.rows, rays.origins, rays.directions, start, rays.t_far))
        # a bundle that runs out of steps is still safe where it stands: its members start there
        t, _ = sphere_trace(field, axis, max_steps=BUNDLE_STEPS)
        start = torch.maximum(start, t[member])
    return sphere_trace(field, Rays(rays.rows, rays.origins, rays.directions, start, rays.t_far),
                        tolerance=tolerance, tolerance_per_t=tolerance_per_t, max_steps=max_steps, relax=RELAX)


def refine(field: Field, rays: Rays, t: torch.Tensor, tolerance: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Converged rays onto the level set: (t after one Newton step along the ray, at most 4
    tolerances, and the unit gradient at the stopping point by autograd)."""
    index = torch.arange(len(t))
    h, grad = evaluate(level, field, rays.points(index, t), rays.rows, gradient=True)
    slope = (grad * rays.directions).sum(1)
    steep = slope.abs() > 1e-6
    step = torch.where(steep, -h / slope.where(steep, torch.ones_like(slope)), torch.zeros_like(h))
    return t + step.clamp(-4 * tolerance, 4 * tolerance), grad / grad.norm(dim=1, keepdim=True).clamp_min(1e-12)
