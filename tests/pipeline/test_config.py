"""Conversion configs: presets pair a fit setup with its paper's normalization and sampler."""

from __future__ import annotations

import pytest

from inrzoo.config import ConfigError
from inrzoo.pipeline import load_convert_config, resolve
from inrzoo.pipeline.resume import fingerprint


def test_presets_pair_normalization_sampler_and_fit():
    davies = resolve(load_convert_config(None, ["preset=davies"]))
    assert (davies.normalize, davies.sampler_name, davies.target) == ("sphere", "importance", "sdf")
    assert davies.fit.arch.name == "relu_mlp" and davies.fit.max_epochs == 100
    inr2vec = resolve(load_convert_config(None, ["preset=inr2vec"]))
    assert (inr2vec.normalize, inr2vec.sampler_name) == ("cube", "inr2vec")
    assert inr2vec.fit.arch.name == "siren" and inr2vec.fit.max_steps == 500


def test_parameters_are_stored_in_float16_by_default_and_fitted_in_float32():
    conv = resolve(load_convert_config(None, ["preset=davies"]))
    assert conv.config.output.dtype == "float16" and conv.fit.dtype == "float32"
    kept = resolve(load_convert_config(None, ["output.dtype=float32"]))
    assert kept.config.output.dtype == "float32"


def test_fit_overrides_merge_into_the_preset_and_seed_is_shared():
    conv = resolve(load_convert_config(None, ["fit.max_epochs=7", "fit.optimizer.lr=0.001", "seed=5"]))
    assert conv.fit.max_epochs == 7 and conv.fit.optimizer.lr == 0.001
    assert conv.fit.batch_size == 2048  # untouched preset value
    assert conv.fit.seed == 5


def test_unknown_preset_and_unknown_fit_key_are_errors():
    with pytest.raises(ConfigError, match="unknown preset"):
        load_convert_config(None, ["preset=nope"])
    with pytest.raises(ConfigError, match="max_epoch"):
        resolve(load_convert_config(None, ["fit.max_epoch=3"]))


def test_fingerprint_ignores_how_a_run_executes():
    a = resolve(load_convert_config(None, ["runtime.fit_workers=1", "fit.device=cpu"])).as_dict()
    b = resolve(load_convert_config(None, ["runtime.fit_workers=2", "tracking.enabled=false"])).as_dict()
    assert fingerprint(a) == fingerprint(b)
    c = resolve(load_convert_config(None, ["fit.max_epochs=3"])).as_dict()
    assert fingerprint(a) != fingerprint(c)


def test_per_shape_initialization_is_part_of_the_recorded_config():
    shared = resolve(load_convert_config(None, []))
    per_shape = resolve(load_convert_config(None, ["fit.init=per_shape"]))
    assert shared.fit.init == "shared" and per_shape.as_dict()["fit"]["init"] == "per_shape"
    assert fingerprint(shared.as_dict()) != fingerprint(per_shape.as_dict())
    with pytest.raises(ConfigError, match="init"):
        resolve(load_convert_config(None, ["fit.init=random"]))


def test_fast_pairs_davies_setup_with_its_smaller_importance_sample():
    fast = resolve(load_convert_config(None, ["preset=fast"]))
    assert (fast.normalize, fast.target, fast.sampler_name) == ("sphere", "sdf", "importance")
    assert fast.sampler_options == {"n": 250_000, "pool_size": 2_500_000}
    assert fast.fit.arch == resolve(load_convert_config(None, ["preset=davies"])).fit.arch  # the same INRs
    assert fast.as_dict()["sampler"]["options"] == {"n": 250_000, "pool_size": 2_500_000}  # recorded
    # The config's options override the pairing's; another sampler does not get them.
    mine = resolve(load_convert_config(None, ["preset=fast", "sampler.options.n=1000"]))
    assert mine.sampler_options == {"n": 1000, "pool_size": 2_500_000}
    other = resolve(load_convert_config(None, ["preset=fast", "sampler.name=uniform"]))
    assert other.sampler_options == {}
