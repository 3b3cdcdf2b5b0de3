"""Typed configs from YAML plus overrides: values, errors that name key and file, round trip."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pytest
import yaml

from inrzoo import config


@dataclass
class Optimizer:
    name: Literal["adam", "adamw"] = "adam"
    lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.999)


@dataclass
class Job:
    name: str
    epochs: int = 10
    device: str | None = None
    optimizer: Optimizer = field(default_factory=Optimizer)
    tags: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.epochs <= 0:
            raise ValueError(f"epochs must be positive, got {self.epochs}")


def write(tmp_path, data) -> str:
    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_yaml_and_overrides_build_typed_values(tmp_path):
    path = write(tmp_path, {"name": "fit", "optimizer": {"lr": 0.001}, "tags": ["a"]})
    job = config.load(Job, path, ["epochs=3", "optimizer.name=adamw", "optimizer.betas=[0.5, 0.9]"])
    assert job == Job(name="fit", epochs=3, optimizer=Optimizer("adamw", 0.001, (0.5, 0.9)), tags=["a"])
    assert isinstance(job.optimizer.lr, float)


def test_ints_are_accepted_for_floats_but_not_bools(tmp_path):
    assert config.from_dict(Optimizer, {"lr": 1}).lr == 1.0
    with pytest.raises(config.ConfigError, match="'lr'"):
        config.from_dict(Optimizer, {"lr": True})


def test_unknown_key_names_key_and_file(tmp_path):
    path = write(tmp_path, {"name": "fit", "optimizer": {"lrr": 0.1}})
    with pytest.raises(config.ConfigError) as err:
        config.load(Job, path)
    assert "optimizer.lrr" in str(err.value) and path in str(err.value)


def test_wrong_type_names_key_and_file(tmp_path):
    path = write(tmp_path, {"name": "fit", "epochs": "many"})
    with pytest.raises(config.ConfigError) as err:
        config.load(Job, path)
    assert "'epochs'" in str(err.value) and path in str(err.value) and "int" in str(err.value)


def test_literal_and_missing_required_and_validation_errors():
    with pytest.raises(config.ConfigError, match="not one of"):
        config.from_dict(Job, {"name": "x", "optimizer": {"name": "sgd"}})
    with pytest.raises(config.ConfigError, match="name"):
        config.from_dict(Job, {})
    with pytest.raises(config.ConfigError, match="epochs must be positive"):
        config.from_dict(Job, {"name": "x", "epochs": 0})


def test_malformed_override_and_yaml(tmp_path):
    with pytest.raises(config.ConfigError, match="key.path=value"):
        config.load(Job, None, ["epochs"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed")
    with pytest.raises(config.ConfigError, match=str(bad)):
        config.load(Job, bad)
    with pytest.raises(config.ConfigError, match="cannot read"):
        config.load(Job, tmp_path / "missing.yaml")


def test_resolved_config_round_trips_through_written_yaml(tmp_path):
    job = config.load(Job, None, ["name=fit", "device=cpu", "optimizer.betas=[0.8, 0.99]"])
    out = tmp_path / "resolved.yaml"
    config.write_resolved(job, str(out))
    again = config.load(Job, out)
    assert again == job
    assert yaml.safe_load(out.read_text())["optimizer"]["betas"] == [0.8, 0.99]
