"""Every registered sampler is reproducible under a seed, and seeds matter."""

from __future__ import annotations

import numpy as np
import pytest

from inrzoo import config, sampling

# Small versions of every registered sampler (the defaults are sized for real fits).
SMALL = {
    "importance": dict(n=2_000, pool_size=20_000),
    "near_surface": dict(n_near=1_000, n_uniform=200),
    "near_surface_deepsdf": dict(n_near=1_000, n_uniform=200),
    "near_surface_sergeev": dict(n_near=1_000, n_surface=100),
    "inr2vec": dict(counts=(500, 400, 50), n_uniform=50, n_base=300),
    "inr2vec_released_code": dict(counts=(500, 400, 50), n_uniform=50, n_base=300, n_surface=200),
    "drapenet": dict(n=2_000),
    "surface": dict(n=2_000),
    "uniform": dict(n=2_000),
    "voxel_centroids": dict(resolution=8),
    "sign_agnostic": dict(n_surface=1_000, k=10),
}


def test_every_registered_sampler_has_a_small_test_config():
    assert set(SMALL) == set(sampling.REGISTRY)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_same_seed_same_samples_other_seed_other_samples(name, sphere):
    sampler = sampling.get(name, **SMALL[name])
    first = sampler.sample(sphere, np.random.default_rng(7))
    again = sampler.sample(sphere, 7)  # an int seed is the same as default_rng(seed)
    np.testing.assert_array_equal(first.points, again.points)
    np.testing.assert_array_equal(first.values, again.values)
    assert first.points.dtype == np.float32 and first.values.dtype == np.float32
    assert np.isfinite(first.points).all() and np.isfinite(first.values).all()
    other = sampler.sample(sphere, 8)
    if name == "voxel_centroids":  # a fixed grid: nothing random in it
        np.testing.assert_array_equal(first.points, other.points)
    else:
        assert not np.array_equal(first.points, other.points)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_configs_round_trip_through_plain_data(name):
    sampler = sampling.get(name, **SMALL[name])
    rebuilt = config.from_dict(sampling.config_class(name), config.to_dict(sampler))
    assert rebuilt == sampler


def test_field_follows_the_shape_kind_unless_configured(sphere, square, cloud, voxels):
    uniform = sampling.get("uniform", n=500)
    assert uniform.sample(sphere, 0).field == "sdf"
    assert uniform.sample(cloud, 0).field == "udf"
    assert uniform.sample(voxels, 0).field == "occupancy"
    udf = sampling.get("uniform", n=500, field="udf").sample(square, 0)
    assert udf.field == "udf" and (udf.values >= 0).all()
    assert sampling.get("drapenet", n=500).sample(sphere, 0).field == "udf"
    assert sampling.get("sign_agnostic", n_surface=300, k=5).sample(sphere, 0).field == "udf"


def test_unknown_names_and_fields_are_refused():
    with pytest.raises(KeyError, match="unknown sampler 'davies'"):
        sampling.get("davies")
    with pytest.raises(TypeError, match="importance"):
        sampling.get("importance", pool=10)
    with pytest.raises(ValueError, match="field"):
        sampling.get("uniform", field="sdv")
    with pytest.raises(config.ConfigError, match="beta"):
        config.from_dict(sampling.ImportanceSampler, {"beta": -1.0})


@pytest.mark.parametrize("name", sorted(SMALL))
def test_plain_config_data_builds_the_sampler_and_round_trips(name):
    sampler = sampling.from_config({"name": name, **SMALL[name]})
    assert sampler == sampling.get(name, **SMALL[name])
    assert sampling.from_config(sampling.to_config(sampler)) == sampler


def test_plain_config_errors_name_the_key_and_source():
    with pytest.raises(config.ConfigError, match="needs a 'name'"):
        sampling.from_config({"n": 3})
    with pytest.raises(config.ConfigError, match=r"job\.yaml.*unknown key\(s\) \['pool'\]"):
        sampling.from_config({"name": "importance", "pool": 3}, source="job.yaml")
    with pytest.raises(config.ConfigError, match="'n'"):
        sampling.from_config({"name": "importance", "n": "many"})
    # A preset's own values stay the defaults under its name.
    assert sampling.from_config({"name": "near_surface_sergeev", "n_near": 10}).n_surface == 25_000
