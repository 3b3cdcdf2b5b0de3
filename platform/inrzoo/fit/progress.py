"""Progress lines of group fits: when one is due, and what it says.

A line names the shapes still fitting, their epochs, their median loss and an ETA, from what
the host knows or reads back anyway: every shape still fitting takes every step, so its
epochs are step // its steps per epoch and its budget (max_epochs, max_steps) is a host
number; the losses come with the stop decisions of a synchronization point. A line costs no
device work.
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np

from inrzoo.fit.config import FitConfig

logger = logging.getLogger("inrzoo.fit.engine")  # the engine's lines, under the name users filter on
PROGRESS_SECONDS = 30.0  # at most this long between the lines of one thread's fits

_clock = threading.local()  # per thread: the group fits of one thread share one line rhythm
_last_line: list[float | None] = [None]  # the process's last line (a new thread's rhythm starts there)


class FitProgress:
    """The lines of one group fit of K shapes (`steps_per_epoch` [K])."""

    def __init__(self, label: str, steps_per_epoch: np.ndarray, cfg: FitConfig):
        self.label, self.shapes = label, len(steps_per_epoch)
        self.started = time.perf_counter()
        budget = np.full(self.shapes, np.inf)  # each shape's steps: its max_epochs or max_steps
        if cfg.max_epochs > 0:
            budget = np.minimum(budget, cfg.max_epochs * steps_per_epoch)
        if cfg.max_steps > 0:
            budget = np.minimum(budget, cfg.max_steps)
        self.budget = budget
        if getattr(_clock, "last", None) is None:  # a thread's first fit: the rhythm goes on from the
            _clock.last = _last_line[0] if _last_line[0] is not None else self.started  # process's last line

    def update(self, step: int, live: np.ndarray, steps_per_epoch: np.ndarray, loss: np.ndarray) -> None:
        """At a synchronization point: a line if one is due. live: the shapes still fitting,
        steps_per_epoch and loss (current loss: epoch mean so far, or the last epoch's) per live row."""
        if len(live) and _due():
            logger.info(self.line(step, live, steps_per_epoch, loss, time.perf_counter() - self.started))

    def line(self, step: int, live: np.ndarray, steps_per_epoch: np.ndarray, loss: np.ndarray,
             elapsed: float) -> str:
        """The ETA is an upper bound: the most steps any live shape has left in its budget, at
        the mean time per step so far. Early stopping or the surface target end shapes sooner;
        an escalation refit (the next rung's group fit) comes on top and has its own lines."""
        epochs = np.median(step // steps_per_epoch)
        budget_epochs = np.median(self.budget[live] // steps_per_epoch)
        finite = loss[np.isfinite(loss)]
        median_loss = f"{np.median(finite):.4g}" if finite.size else "n/a"
        left = float(np.max(self.budget[live]) - step) * elapsed / max(step, 1)
        return (f"fit {self.label}: {len(live)} of {self.shapes} shapes still fitting, {epochs:g} of "
                f"{budget_epochs:g} epochs done (median), step {step}, median loss {median_loss}, "
                f"ETA <= {left:.0f} s (budget), {elapsed:.1f} s in")


def _due() -> bool:
    """True at most every PROGRESS_SECONDS per thread, across the group fits it runs one after
    another (a unit's batches, escalation refits) and the threads of the next unit, so a worker
    never goes quiet for longer because its groups are short."""
    now = time.perf_counter()
    if now - _clock.last < PROGRESS_SECONDS:
        return False
    _clock.last = _last_line[0] = now
    return True
