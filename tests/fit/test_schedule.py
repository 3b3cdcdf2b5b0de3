"""Learning-rate schedules (inrzoo.fit.schedule) and their use by the fit engine."""

import pytest
import torch

from inrzoo.fit import fit_batch
from inrzoo.fit.config import LrScheduleConfig
from inrzoo.fit.schedule import cycle_ends, lr_factor

from fit.fit_helpers import sphere_samples, tiny_config


def test_constant_is_one_everywhere():
    cfg = LrScheduleConfig()
    assert {lr_factor(cfg, t, 100) for t in range(100)} == {1.0}


def test_cosine_warms_up_linearly_then_anneals_to_the_final_factor():
    cfg = LrScheduleConfig(name="cosine", warmup_steps=10, final_factor=0.01)
    warm = [lr_factor(cfg, t, 110) for t in range(10)]
    assert warm == pytest.approx([(t + 1) / 10 for t in range(10)])
    assert lr_factor(cfg, 10, 110) == pytest.approx(1.0)
    assert lr_factor(cfg, 60, 110) == pytest.approx(0.01 + 0.99 * 0.5)  # half way: the mean
    assert lr_factor(cfg, 110, 110) == pytest.approx(0.01)
    after = [lr_factor(cfg, t, 110) for t in range(10, 111)]
    assert all(a >= b for a, b in zip(after, after[1:]))  # monotone after the warm-up


def test_one_cycle_starts_at_one_over_div_factor():
    cfg = LrScheduleConfig(name="one_cycle", warmup_steps=20, div_factor=25.0, final_factor=1e-3)
    assert lr_factor(cfg, 0, 100) == pytest.approx(1 / 25)
    assert lr_factor(cfg, 20, 100) == pytest.approx(1.0)
    assert lr_factor(cfg, 100, 100) == pytest.approx(1e-3)


def test_warm_restarts_restart_at_each_cycle_end():
    cfg = LrScheduleConfig(name="warm_restarts", cycle_steps=10, cycle_mult=2.0, final_factor=0.0)
    assert cycle_ends(cfg, 100) == [10, 30, 70]
    assert lr_factor(cfg, 0, 100) == 1.0 and lr_factor(cfg, 10, 100) == 1.0 and lr_factor(cfg, 30, 100) == 1.0
    assert lr_factor(cfg, 9, 100) < 0.03 and lr_factor(cfg, 20, 100) == pytest.approx(0.5)
    assert cycle_ends(LrScheduleConfig(name="cosine"), 100) == [100]


def test_a_schedule_needs_max_steps():
    with pytest.raises(ValueError, match="max_steps"):
        tiny_config(max_steps=0, schedule=LrScheduleConfig(name="cosine")).__post_init__()


def test_the_engine_follows_the_schedule():
    # The first warm-up step of 4 runs at a quarter of the rate: one step equals a constant-rate
    # step at lr / 4 exactly, and differs from one at the full rate.
    shape = sphere_samples(0.5, 512)
    warm = fit_batch([shape], tiny_config(max_epochs=0, max_steps=1, schedule=LrScheduleConfig(name="cosine", warmup_steps=4)))
    quarter = tiny_config(max_epochs=0, max_steps=1)
    quarter.optimizer.lr = quarter.optimizer.lr * 0.25
    full = fit_batch([shape], tiny_config(max_epochs=0, max_steps=1))
    same = fit_batch([shape], quarter)
    for name, value in warm.params.items():
        assert torch.equal(value, same.params[name]), name
    assert not torch.equal(warm.params["layers.0.weight"], full.params["layers.0.weight"])
