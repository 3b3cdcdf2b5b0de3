"""Saving and loading inr2vec models without pickle: one safetensors file per model.

The tensors are the module's state_dict; the safetensors header metadata holds what rebuilds
the module: the resolved config (JSON of `inrzoo.config.to_dict`), the INR parameter shapes the
encoder reads, and a kind tag. Works on any fsspec URI (local path, s3://, memory://).
"""

from __future__ import annotations

import json
import struct
from typing import Any

import fsspec
import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from torch import nn

from inrzoo import config as config_io
from inrzoo.zoo.inr2vec.config import Inr2vecConfig
from inrzoo.zoo.inr2vec.model import Inr2vec

FORMAT = "inrzoo.inr2vec/1"


def to_bytes(module: nn.Module, metadata: dict[str, Any]) -> bytes:
    """state_dict as safetensors bytes with JSON-encoded `metadata` in the header."""
    state = {name: t.detach().cpu().contiguous() for name, t in module.state_dict().items()}
    return save_tensors(state, metadata={key: json.dumps(value) for key, value in metadata.items()})


def read_metadata(data: bytes, uri: str) -> dict[str, Any]:
    """The decoded header metadata of safetensors bytes (the format: u64 length, JSON header)."""
    try:
        (length,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8 : 8 + length])
        return {key: json.loads(value) for key, value in header.get("__metadata__", {}).items()}
    except (struct.error, ValueError) as exc:
        raise ValueError(f"{uri}: not a safetensors file with inr2vec metadata ({exc})") from exc


def save_inr2vec(model: Inr2vec, uri: str, extra: dict[str, Any] | None = None, **storage_options: Any) -> str:
    """Write `model` to `uri`; `extra` (JSON-able: e.g. the ArchSpec JSON, dataset URI) rides along."""
    metadata = {"format": FORMAT, "config": config_io.to_dict(model.config),
                "param_shapes": {name: list(shape) for name, shape in model.param_shapes.items()},
                "in_dim": model.in_dim, "extra": extra or {}}
    with fsspec.open(uri, "wb", **storage_options) as handle:
        handle.write(to_bytes(model, metadata))
    return uri


def load_inr2vec(uri: str, map_location: str | torch.device = "cpu", **storage_options: Any) -> tuple[Inr2vec, dict]:
    """Rebuild the model saved at `uri` (eval mode); returns (model, extra)."""
    try:
        with fsspec.open(uri, "rb", **storage_options) as handle:
            data = handle.read()
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{uri}: no inr2vec model there") from exc
    meta = read_metadata(data, uri)
    if meta.get("format") != FORMAT:
        raise ValueError(f"{uri}: format {meta.get('format')!r} is not {FORMAT!r}")
    config = config_io.from_dict(Inr2vecConfig, meta["config"], source=uri)
    model = Inr2vec({n: tuple(s) for n, s in meta["param_shapes"].items()}, config, in_dim=meta["in_dim"])
    state = load_tensors(data)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"{uri}: tensors do not match the saved config ({exc})") from exc
    return model.to(map_location).eval(), meta["extra"]
