"""Error-driven escalation (Davies A.2) and the paper presets."""

import pytest
from fit.fit_helpers import sphere_samples, sphere_surface, tiny_config

from inrzoo import config
from inrzoo.fit import PRESETS, FitConfig, fit_batch, preset
from inrzoo.fit.config import EscalationConfig
from inrzoo.inr import ArchSpec, build


def _ladder(target: float) -> EscalationConfig:
    return EscalationConfig(ladder=[ArchSpec.default("relu_mlp", hidden=[24] * 3)], target_surface_error=target)


def test_shapes_missing_the_target_are_refit_with_the_next_architecture():
    shapes = [sphere_samples(0.5, seed=0), sphere_samples(0.3, seed=1)]
    surface = [sphere_surface(0.5), sphere_surface(0.3)]
    cfg = tiny_config(max_epochs=2, escalation=_ladder(target=1e-9))  # unreachable: everyone escalates
    result = fit_batch(shapes, cfg, surface=surface)
    assert result.status == ["ok", "ok"]
    for i in range(2):
        first = result.escalations[i][0]
        assert first.startswith("relu_mlp-3x16: surface error") and "refit with relu_mlp-3x24" in first
        assert result.escalations[i][-1].endswith("ladder exhausted")
        assert result.arch[i].label in ("relu_mlp-3x16", "relu_mlp-3x24")  # the better of the two kept
        assert result.metrics[i]["surface_error"] > 0
    by_arch = result.by_arch()
    assert sum(len(rows) for _, rows, _ in by_arch) == 2


def test_shapes_meeting_the_target_keep_the_first_architecture():
    cfg = tiny_config(max_epochs=2, escalation=_ladder(target=10.0))
    result = fit_batch([sphere_samples(0.5)], cfg, surface=[sphere_surface(0.5)])
    assert result.escalations == [[]] and result.arch[0] == cfg.arch
    assert result.params["output.weight"].shape == (1, 1, 16)


def test_surface_error_is_mean_abs_field_at_the_surface_points():
    import torch

    cfg = tiny_config(max_epochs=1)
    result = fit_batch([sphere_samples(0.5)], cfg, surface=[sphere_surface(0.5)])
    arch = build(result.arch[0])
    pts = torch.as_tensor(sphere_surface(0.5))[None]
    expected = arch.forward(result.params, pts).abs().mean().item()
    assert result.metrics[0]["surface_error"] == pytest.approx(expected, rel=1e-5)


def test_presets_reproduce_the_paper_setups():
    davies = preset("davies")
    assert build(davies.arch).num_params == 7553 and davies.loss.name == "l1"
    assert (davies.optimizer.lr, davies.batch_size, davies.max_epochs) == (1e-4, 2048, 100)
    assert davies.early_stopping.enabled and davies.escalation.target_surface_error == 0.003
    inr2vec = preset("inr2vec")
    assert inr2vec.arch.name == "siren" and inr2vec.arch.hidden == [512] * 4
    assert (inr2vec.loss.name, inr2vec.max_steps, inr2vec.batch_size, inr2vec.optimizer.lr) == ("bce", 500, 10_000, 1e-4)
    sergeev = preset("sergeev")
    assert sergeev.arch.hidden == [512] * 8 and sergeev.loss.name == "curriculum" and sergeev.plateau.enabled
    assert preset("lightsal").loss.name == "sal" and preset("lightsal").arch.name == "lightsal"
    assert preset("occupancy").loss.name == "focal" and preset("udf").loss.name == "bce"
    with pytest.raises(KeyError, match="unknown fit preset"):
        preset("nope")


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_roundtrip_through_the_config_module(name):
    cfg = preset(name)
    back = config.from_dict(FitConfig, config.to_dict(cfg))
    assert back == cfg


def test_fit_batch_accepts_a_preset_name():
    # The davies preset itself, on a small sample set: one step is enough to run the real config.
    shape = sphere_samples(0.5, n=4096)

    result = fit_batch([shape], preset("davies", max_steps=1))
    assert result.status == ["ok"] and result.metrics[0]["steps"] == 1
    assert result.config.arch.label == "relu_mlp-8x32"


def test_fast_fits_davies_network_with_a_bounded_budget_and_a_surface_stop():
    fast, davies = preset("fast"), preset("davies")
    assert fast.arch == davies.arch and fast.loss == davies.loss and fast.escalation == davies.escalation
    assert fast.max_steps * fast.batch_size < davies.max_epochs * 1_000_000 / 10  # < a tenth of the sample visits
    assert fast.schedule.name == "warm_restarts" and fast.early_stopping.enabled is False
    assert 0 < fast.surface_check.target < fast.escalation.target_surface_error
    # The checks fall on the warm restarts' cycle ends (the lowest rate).
    from inrzoo.fit.schedule import cycle_ends
    assert all(end % fast.surface_check.every == 0 for end in cycle_ends(fast.schedule, fast.max_steps))
