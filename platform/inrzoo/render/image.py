"""Pictures of fields: sphere-traced, Lambert-shaded, on a floor with the field's shadow.

    images = render_field(field, size=512)                 # uint8 [K, H, W, 3], one per row
    render_grid(dataset, range(16), "grid.png")             # many rows of a dataset, one call

Shading (chosen): the object's colour times 0.2 + 0.65 max(n.l, 0) + 0.15 max(-n.d, 0) (Lambert
for the light, a weak headlight so faces turned from the light keep their shape); the floor
plane at Camera.floor is darkened where a shadow ray towards the light meets the field, and
fades into the background away from the shape. Unsigned-distance normals face the camera.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from inrzoo.fields import Field, dataset_fields
from inrzoo.render import trace as tracing
from inrzoo.render.camera import Camera

log = logging.getLogger(__name__)

TILES = (16, 8, 4, 2)  # chosen: bundle levels in pixels (cone marching), coarse to fine


@dataclass
class Style:
    color: tuple[float, float, float] = (0.35, 0.55, 0.85)
    floor_color: tuple[float, float, float] = (0.86, 0.86, 0.84)
    background: tuple[float, float, float] = (1.0, 1.0, 1.0)
    shadow: float = 0.45  # share of the floor's light a shadow takes away
    floor_extent: float = 3.0  # the floor fades out at this many domain radii from the centre


def _size(size: int | tuple[int, int]) -> tuple[int, int]:
    height, width = (size, size) if isinstance(size, int) else size
    if height < 1 or width < 1:
        raise ValueError(f"image size must be positive, got {size!r}")
    return int(height), int(width)


def _tile_ids(pixels: torch.Tensor, width: int, size: int) -> torch.Tensor:
    columns = (width + size - 1) // size
    return (pixels // width // size) * columns + (pixels % width) // size


def render_field(field: Field, size: int | tuple[int, int] = 512, camera: Camera | None = None, *,
                 shadows: bool = True, style: Style | None = None, max_steps: int | None = None) -> np.ndarray:
    """Sphere-traced pictures of every row of `field`: uint8 [K, H, W, 3].

    max_steps: a cap on the steps of a ray (None: every ray runs until it converges or leaves
    the domain; a ray still marching at the cap is drawn as a miss)."""
    camera, style = camera or Camera(), style or Style()
    height, width = _size(size)
    started = time.perf_counter()
    k = field.rows
    with torch.no_grad():
        eye, directions, pixel = camera.rays(height, width, field.radius)
        t_floor, fade = _floor(camera, style, eye, directions, field.radius)
        rows, pixels, t, status = _primary(field, eye, directions, width, pixel, max_steps)
        hit = ((status == tracing.CONVERGED) | (status == tracing.INSIDE)) & (t < t_floor[pixels])
        rows, pixels, t, status = rows[hit], pixels[hit], t[hit], status[hit]
    near, _ = tracing.ball_interval(eye[None], directions[pixels], field.radius)
    hits = tracing.Rays(rows, eye.expand(len(rows), 3), directions[pixels], near, t)
    t_hit, normals = tracing.refine(field, hits, t, 0.5 * pixel * t)
    with torch.no_grad():
        points = hits.points(torch.arange(len(rows)), t_hit)
        clipped = (status == tracing.INSIDE) & (t <= near + 1e-6)  # the domain ball cut the solid
        normals[clipped] = points[clipped] / points[clipped].norm(dim=1, keepdim=True)
        if field.kind == "udf":  # a shell has two sides: show the one facing the camera
            normals = torch.where(((normals * hits.directions).sum(1) > 0)[:, None], -normals, normals)
        light = camera.light(field.radius)
        shadow = _shadows(field, camera, height, width, max_steps) if shadows else torch.zeros(k, height * width)
        floor = torch.tensor(style.floor_color) * (1 - style.shadow * shadow)[..., None]
        background = torch.tensor(style.background)
        image = fade[:, None] * floor + (1 - fade[:, None]) * background  # [K, H*W, 3]
        shade = 0.2 + 0.65 * (normals @ light).clamp_min(0) + 0.15 * (-(normals * hits.directions).sum(1)).clamp_min(0)
        image[rows, pixels] = shade[:, None] * torch.tensor(style.color)
    log.debug("rendered %d x %dx%d in %.2f s", k, height, width, time.perf_counter() - started)
    return (image.clamp(0, 1) * 255 + 0.5).to(torch.uint8).reshape(k, height, width, 3).numpy()


def _primary(field: Field, eye: torch.Tensor, directions: torch.Tensor, width: int, pixel: float,
             max_steps: int | None) -> tuple[torch.Tensor, ...]:
    """(row, pixel, t, status) of every camera ray of every row that meets the domain ball."""
    near, far = tracing.ball_interval(eye[None], directions, field.radius)
    seen = (far > near).nonzero().squeeze(1)
    rows = torch.arange(field.rows).repeat_interleave(len(seen))
    pixels = seen.repeat(field.rows)
    rays = tracing.Rays(rows, eye.expand(len(rows), 3), directions[pixels], near[pixels], far[pixels])
    t, status = tracing.trace(field, rays, [_tile_ids(pixels, width, s) for s in TILES], tolerance_per_t=0.5 * pixel,
                              max_steps=max_steps)
    return rows, pixels, t, status


def _floor(camera: Camera, style: Style, eye: torch.Tensor, directions: torch.Tensor,
           radius: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(t where each ray meets the floor plane (inf: never), the floor's opacity [H*W] in [0, 1])."""
    up = camera.up_vector()
    rising = directions @ up
    falling = rising < 0
    t = torch.where(falling, (camera.floor - eye @ up) / rising.where(falling, -torch.ones(1)), torch.inf)
    points = eye + t[:, None].clamp_max(1e6) * directions
    spread = (points - (points @ up)[:, None] * up).norm(dim=1) / (style.floor_extent * radius)
    return t, torch.where(falling, (1 - spread.clamp(0, 1) ** 2), torch.zeros(1))


def _shadows(field: Field, camera: Camera, height: int, width: int, max_steps: int | None) -> torch.Tensor:
    """[K, H*W] share of shadow on the floor (chosen: traced at half resolution from the floor
    points towards the light, then bilinearly upsampled: soft-edged and a quarter of the rays)."""
    low_h, low_w = max(1, height // 2), max(1, width // 2)
    eye, directions, pixel = camera.rays(low_h, low_w, field.radius)
    up = camera.up_vector()
    rising = directions @ up
    floor = (rising < 0).nonzero().squeeze(1)
    origins = eye + ((camera.floor - eye @ up) / rising[floor])[:, None] * directions[floor]
    light = camera.light(field.radius)
    near, far = tracing.ball_interval(origins, light.expand(len(floor), 3), field.radius)
    meets = (far > near).nonzero().squeeze(1)
    mask = torch.zeros(field.rows, low_h * low_w)
    if len(meets):
        pixels = floor[meets].repeat(field.rows)
        rows = torch.arange(field.rows).repeat_interleave(len(meets))
        rays = tracing.Rays(rows, origins[meets].repeat(field.rows, 1), light.expand(len(rows), 3),
                            near[meets].repeat(field.rows), far[meets].repeat(field.rows))
        _, status = tracing.trace(field, rays, [_tile_ids(pixels, low_w, s) for s in TILES[1:]],
                                  tolerance=0.5 * pixel * float(eye.norm()), max_steps=max_steps)
        mask[rows, pixels] = ((status == tracing.CONVERGED) | (status == tracing.INSIDE)).to(torch.float32)
    mask = torch.nn.functional.interpolate(mask.reshape(field.rows, 1, low_h, low_w), size=(height, width),
                                           mode="bilinear", align_corners=False)
    return mask.reshape(field.rows, height * width)
