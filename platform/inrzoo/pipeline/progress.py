"""Progress of a conversion in the job log: shapes done, failed, rate and time left."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


@dataclass
class Progress:
    total: int  # shapes scheduled in this run
    already_done: int = 0  # rows finished by earlier runs (resume)
    ok: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)
    surface_errors: list[float] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    @property
    def done(self) -> int:
        return self.ok + self.failed

    @property
    def rate_per_hour(self) -> float:
        elapsed = time.perf_counter() - self.started
        return 3600.0 * self.done / elapsed if elapsed > 0 else math.nan

    def update(self, summary: dict[str, Any]) -> None:
        self.ok += int(summary["ok"])
        self.failed += int(summary["failed"])
        self.failures.extend(str(f) for f in summary["failures"])
        self.surface_errors.extend(float(e) for e in np.asarray(summary["surface_errors"]).ravel())
        log.info(self.line())
        for failure in summary["failures"]:
            log.warning("[inrzoo]   failed row %s", failure)

    def line(self) -> str:
        rate = self.rate_per_hour
        left = (self.total - self.done) / rate * 3600.0 if rate and rate > 0 else math.nan
        median = float(np.median(self.surface_errors)) if self.surface_errors else math.nan
        return (
            f"[inrzoo] {self.done}/{self.total} shapes this run (ok {self.ok}, failed {self.failed}; "
            f"{self.already_done} done before), {rate:.1f} shapes/h, ~{left:.0f}s left, "
            f"median surface error {median:.5f}"
        )
