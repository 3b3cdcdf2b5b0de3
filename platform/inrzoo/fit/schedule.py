"""Learning-rate schedules over a fit's steps, as a host-side factor of the optimizer's lr.

Every shape still fitting in a group takes the same number of steps, so one factor per step
serves the whole group and nothing is read back from the device. The factor multiplies the
lr that Adam would use otherwise (the optimizer's, or a shape's ReduceLROnPlateau lr).

- constant: 1 (Davies' fixed Adam rate).
- cosine: a linear warm-up from 0 over warmup_steps, then a half cosine from 1 down to
  final_factor at max_steps (Loshchilov & Hutter's annealing without restarts).
- one_cycle: Smith & Topin's one-cycle policy in torch's OneCycleLR form (cosine annealing
  both ways): from 1/div_factor up to 1 over warmup_steps, then down to final_factor.
- warm_restarts: SGDR (Loshchilov & Hutter): cosine cycles from 1 to final_factor, the first
  cycle_steps long, each next one cycle_mult times longer; restarts jump back to 1.
"""

from __future__ import annotations

import math

from inrzoo.fit.config import LrScheduleConfig


def lr_factor(cfg: LrScheduleConfig, step: int, total: int) -> float:
    """The factor of step `step` (0-based) of a fit of `total` steps (its max_steps)."""
    if cfg.name == "constant":
        return 1.0
    if cfg.name == "warm_restarts":
        return _cosine(*_cycle_position(step, cfg.cycle_steps, cfg.cycle_mult), cfg.final_factor)
    warmup = cfg.warmup_steps
    if step < warmup:
        if cfg.name == "one_cycle":
            start = 1.0 / cfg.div_factor
            return start + (1.0 - start) * 0.5 * (1.0 - math.cos(math.pi * step / warmup))
        return (step + 1) / warmup
    return _cosine(step - warmup, max(1, total - warmup), cfg.final_factor)


def _cosine(position: int, length: int, final: float) -> float:
    u = min(1.0, position / length)
    return final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * u))


def _cycle_position(step: int, first: int, mult: float) -> tuple[int, int]:
    """(position within its cycle, that cycle's length) of `step` under SGDR cycles."""
    length = first
    while step >= length:
        step -= length
        length = max(1, int(round(length * mult)))
    return step, length


def cycle_ends(cfg: LrScheduleConfig, total: int) -> list[int]:
    """The steps (1-based counts) after which a warm-restart cycle ends, up to `total`: where the
    lr is lowest, hence where a check of the fit is most telling."""
    if cfg.name != "warm_restarts":
        return [total]
    ends, end, length = [], 0, cfg.cycle_steps
    while end + length <= total:
        end += length
        ends.append(end)
        length = max(1, int(round(length * cfg.cycle_mult)))
    return ends
