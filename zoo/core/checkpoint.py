"""Files a zoo model leaves, none of which needs unpickling to load.

Two names, two things:
- the model file (`save_model` / `load_model`): one safetensors file, the state_dict plus, in its
  header, the model's registry name, its config and its data spec, so the network is rebuilt
  from the registry and nothing else. This is what is exported, registered and shared.
- the training state (`save_training_state` / `load_training_state`): a folder Ray Train uploads
  after every epoch and a resumed run starts from:
      model.safetensors      the model file above
      optimizer.safetensors  optimizer moments as `state.<param index>.<name>`; param groups as JSON
      state.json             {"epoch": epochs finished, ...extra}
Model files written before the zoo core (format "inrzoo.inr2vec/1") are read through the
migration that the model registers in LEGACY_FORMATS.
"""

from __future__ import annotations

import importlib
import json
import struct
from pathlib import Path
from typing import Any

import fsspec
import torch
from safetensors import safe_open
from safetensors.torch import load as load_tensors
from safetensors.torch import load_file, save as save_tensors, save_file

from inrzoo import config as configlib
from inrzoo.zoo.core.data import spec_from_dict
from inrzoo.zoo.core.model import ZooModel, model_class

FORMAT = "inrzoo.zoo/1"
MODEL_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"
STATE_FILE = "state.json"
# format -> "module:function" turning an old header into (model name, config dict, spec dict, extra)
LEGACY_FORMATS = {"inrzoo.inr2vec/1": "inrzoo.zoo.inr2vec.checkpoint:from_inr2vec_v1"}


def model_bytes(model: ZooModel, extra: dict[str, Any] | None = None) -> bytes:
    metadata = {"format": FORMAT, "model": model.name, "data_kind": model.data_kind,
                "config": configlib.to_dict(model.config), "spec": configlib.to_dict(model.spec), "extra": extra or {}}
    state = {name: t.detach().cpu().contiguous() for name, t in model.state_dict().items()}
    return save_tensors(state, metadata={key: json.dumps(value) for key, value in metadata.items()})


def save_model(model: ZooModel, uri: str, extra: dict[str, Any] | None = None, **storage_options: Any) -> str:
    """Write the model file to any fsspec URI; `extra` (JSON-able lineage) rides in the header."""
    with fsspec.open(uri, "wb", **storage_options) as handle:
        handle.write(model_bytes(model, extra))
    return uri


def read_header(data: bytes, uri: str) -> dict[str, Any]:
    """The decoded metadata of safetensors bytes (the format: u64 length, JSON header)."""
    try:
        (length,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8 : 8 + length])
        return {key: json.loads(value) for key, value in header.get("__metadata__", {}).items()}
    except (struct.error, ValueError) as exc:
        raise ValueError(f"{uri}: not a safetensors model file ({exc})") from exc


def build_from_header(meta: dict[str, Any], uri: str) -> tuple[ZooModel, dict[str, Any]]:
    """An untrained model rebuilt from a model file's header; returns (model, extra)."""
    fmt = meta.get("format")
    if fmt in LEGACY_FORMATS:
        module, _, function = LEGACY_FORMATS[fmt].partition(":")
        meta = getattr(importlib.import_module(module), function)(meta)
    elif fmt != FORMAT:
        raise ValueError(f"{uri}: format {fmt!r} is not a zoo model file ({FORMAT})")
    cls = model_class(meta["model"])
    config = configlib.from_dict(cls.config_class, meta["config"], source=f"{uri} (config)")
    spec = spec_from_dict(meta.get("data_kind", cls.data_kind), meta["spec"])
    return cls(config, spec), meta.get("extra", {})


def model_from_bytes(data: bytes, uri: str, map_location: str | torch.device = "cpu") -> tuple[ZooModel, dict]:
    model, extra = build_from_header(read_header(data, uri), uri)
    try:
        model.load_state_dict(load_tensors(data))
    except RuntimeError as exc:
        raise ValueError(f"{uri}: tensors do not match the saved config ({exc})") from exc
    return model.to(map_location).eval(), extra


def load_model(uri: str, map_location: str | torch.device = "cpu", **storage_options: Any) -> tuple[ZooModel, dict]:
    """The model saved at `uri` (eval mode) and its extra metadata."""
    try:
        with fsspec.open(uri, "rb", **storage_options) as handle:
            data = handle.read()
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{uri}: no model file there") from exc
    return model_from_bytes(data, uri, map_location)


def save_training_state(folder: str | Path, model: ZooModel, optimizer: torch.optim.Optimizer, epoch: int,
                        extra: dict[str, Any] | None = None) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_model(model, str(folder / MODEL_FILE), extra=extra)
    state = optimizer.state_dict()
    tensors = {f"state.{index}.{name}": value.detach().cpu().contiguous()
               for index, entry in state["state"].items() for name, value in entry.items()
               if isinstance(value, torch.Tensor)}
    scalars = {f"{index}.{name}": value for index, entry in state["state"].items()
               for name, value in entry.items() if not isinstance(value, torch.Tensor)}
    save_file(tensors, str(folder / OPTIMIZER_FILE),
              metadata={"param_groups": json.dumps(state["param_groups"]), "scalars": json.dumps(scalars)})
    (folder / STATE_FILE).write_text(json.dumps({"epoch": int(epoch), **(extra or {})}))
    return folder


def load_training_state(folder: str | Path, model: ZooModel, optimizer: torch.optim.Optimizer | None = None) -> int:
    """Load a training state into `model` (and `optimizer`) in place; returns the epochs finished."""
    folder = Path(folder)
    if not (folder / STATE_FILE).exists():
        raise FileNotFoundError(f"{folder}: not a training state (no {STATE_FILE})")
    saved, _ = load_model(str(folder / MODEL_FILE))
    if (saved.name, configlib.to_dict(saved.config), configlib.to_dict(saved.spec)) != (
            model.name, configlib.to_dict(model.config), configlib.to_dict(model.spec)):
        raise ValueError(f"{folder}: the training state is of another model, model config or data spec")
    model.load_state_dict(saved.state_dict())
    if optimizer is not None:
        optimizer.load_state_dict(read_optimizer_state(folder / OPTIMIZER_FILE))
    return int(json.loads((folder / STATE_FILE).read_text())["epoch"])


def check_same_data(folder: str | Path, extra: dict[str, Any]) -> None:
    """Refuse to resume a training state made on other data than the run's (`dataset_digest` of
    its state.json against `extra`'s): a store remade at the same URI keeps the run name, and the
    run would otherwise go on, silently, from weights trained on the old data."""
    saved = json.loads((Path(folder) / STATE_FILE).read_text()).get("dataset_digest")
    wanted = extra.get("dataset_digest")
    if saved and wanted and saved != wanted:
        raise ValueError(f"the training state of run {extra.get('run_name', '?')} was trained on data with digest "
                         f"{saved}, and {extra.get('dataset', 'the data')} now has digest {wanted}: remove that "
                         "run's training states, or set checkpoint.name to start a new run")


def read_optimizer_state(path: Path) -> dict[str, Any]:
    """An optimizer state_dict saved by `save_training_state` (tensors by name, groups from JSON)."""
    with safe_open(str(path), framework="pt") as handle:
        meta = handle.metadata() or {}
    if "param_groups" not in meta:
        raise ValueError(f"{path}: no optimizer param_groups in the safetensors header")
    state: dict[int, dict[str, Any]] = {}
    for key, value in load_file(str(path)).items():
        _, index, name = key.split(".", 2)
        state.setdefault(int(index), {})[name] = value
    for key, value in json.loads(meta.get("scalars", "{}")).items():
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value
    groups = json.loads(meta["param_groups"])
    for group in groups:  # JSON has no tuples; Adam's betas are one
        if isinstance(group.get("betas"), list):
            group["betas"] = tuple(group["betas"])
    return {"state": state, "param_groups": groups}
