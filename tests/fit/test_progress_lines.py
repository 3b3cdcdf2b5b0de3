"""The progress line of a group fit names the shapes still fitting, their epoch, median loss and an ETA."""

import logging
import re

import numpy as np
from fit.fit_helpers import sphere_samples, tiny_config

from inrzoo.fit import fit_batch, progress
from inrzoo.fit.progress import FitProgress

LINE = re.compile(r"fit \S+: (\d+) of 2 shapes still fitting, (\d+) of (\d+) epochs done \(median\), step (\d+), "
                  r"median loss ([0-9.e+-]+), ETA <= (\d+) s \(budget\), [0-9.]+ s in")


def test_a_fit_logs_shapes_epochs_median_loss_and_eta(monkeypatch, caplog):
    monkeypatch.setattr(progress, "PROGRESS_SECONDS", 0.0)  # a line at every synchronization point
    samples = [sphere_samples(0.4, 512, 0), sphere_samples(0.6, 512, 1)]  # 8 steps per epoch each
    with caplog.at_level(logging.INFO, logger="inrzoo.fit.engine"):
        result = fit_batch(samples, tiny_config(max_epochs=5))
    assert result.status == ["ok", "ok"]
    lines = [LINE.fullmatch(r.getMessage()) for r in caplog.records if r.name == "inrzoo.fit.engine"]
    assert len(lines) == 4 and all(lines), [r.getMessage() for r in caplog.records]  # epochs 1-4 end
    for k, match in enumerate(lines, start=1):
        fitting, epochs, max_epochs, step, loss, eta = match.groups()
        assert (fitting, epochs, max_epochs, step) == ("2", str(k), "5", str(8 * k))
        assert float(loss) > 0


def test_the_eta_is_the_largest_budget_left_at_the_mean_step_time():
    cfg = tiny_config(max_epochs=10, max_steps=150)
    fit = FitProgress("mlp", np.array([10, 20, 40]), cfg)  # budgets: 100, 150 (max_steps), 150 steps
    line = fit.line(50, np.array([0, 2]), np.array([10, 40]), np.array([0.3, np.nan]), elapsed=5.0)
    # live shapes 0 and 2: epochs 5 and 1 (median 3) of 10 and 3 (median 6.5); 100 steps left at 0.1 s
    assert line == ("fit mlp: 2 of 3 shapes still fitting, 3 of 6.5 epochs done (median), step 50, "
                    "median loss 0.3, ETA <= 10 s (budget), 5.0 s in")
