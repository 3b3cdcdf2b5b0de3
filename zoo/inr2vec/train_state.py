"""Training checkpoints without pickle: a folder with the model, the optimizer and the epoch.

    model.safetensors      the Inr2vec (inrzoo.zoo.inr2vec.checkpoint format: config in the header)
    optimizer.safetensors  AdamW moment tensors as `state.<param index>.<name>`; the param
                           groups (lr, weight decay, ...) as JSON in the header
    state.json             {"epoch": epochs finished, ...}

Ray Train uploads the folder as a Checkpoint; `load_training_state` reads it back into a model
and optimizer built from the same config.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from inrzoo.zoo.inr2vec.checkpoint import load_inr2vec, save_inr2vec
from inrzoo.zoo.inr2vec.model import Inr2vec

MODEL_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"
STATE_FILE = "state.json"


def save_training_state(folder: str | Path, model: Inr2vec, optimizer: torch.optim.Optimizer, epoch: int,
                        extra: dict[str, Any] | None = None) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_inr2vec(model, str(folder / MODEL_FILE), extra=extra)
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


def load_training_state(folder: str | Path, model: Inr2vec, optimizer: torch.optim.Optimizer | None = None) -> int:
    """Load the folder's weights (and optimizer state) into `model` in place; returns the epoch."""
    folder = Path(folder)
    if not (folder / STATE_FILE).exists():
        raise FileNotFoundError(f"{folder}: not an inr2vec training checkpoint (no {STATE_FILE})")
    saved, _ = load_inr2vec(str(folder / MODEL_FILE))
    # The epoch budget may grow between attempts (train longer from the last checkpoint).
    same_config = dataclasses.replace(saved.config, epochs=model.config.epochs) == model.config
    if saved.param_shapes != model.param_shapes or not same_config:
        raise ValueError(f"{folder}: the checkpoint was trained with another model config or INR architecture")
    model.load_state_dict(saved.state_dict())
    if optimizer is not None:
        optimizer.load_state_dict(read_optimizer_state(folder / OPTIMIZER_FILE))
    return int(json.loads((folder / STATE_FILE).read_text())["epoch"])


def read_optimizer_state(path: Path) -> dict[str, Any]:
    """The optimizer state_dict saved by `save_training_state` (tensors by name, groups from JSON)."""
    from safetensors import safe_open

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
