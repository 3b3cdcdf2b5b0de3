"""Saving and loading garment models without pickle: one safetensors file, config in its header.

Uses the safetensors layout of the inr2vec checkpoints (state_dict tensors; the resolved config and
a format tag as JSON metadata), so any fsspec URI works and nothing is unpickled on load.
"""

from __future__ import annotations

from typing import Any

import fsspec
import torch
from safetensors.torch import load as load_tensors

from inrzoo import config as config_io
from inrzoo.zoo.drapenet.config import DrapeNetConfig
from inrzoo.zoo.drapenet.networks import GarmentModel
from inrzoo.zoo.inr2vec.checkpoint import read_metadata, to_bytes

FORMAT = "inrzoo.drapenet.garments/1"


def save_garment_model(model: GarmentModel, config: DrapeNetConfig, uri: str, extra: dict[str, Any] | None = None,
                       **storage_options: Any) -> str:
    """Write `model` (built from `config`) to `uri`; `extra` (JSON-able) rides along."""
    metadata = {"format": FORMAT, "config": config_io.to_dict(config), "extra": extra or {}}
    with fsspec.open(uri, "wb", **storage_options) as handle:
        handle.write(to_bytes(model, metadata))
    return uri


def load_garment_model(uri: str, map_location: str | torch.device = "cpu",
                       **storage_options: Any) -> tuple[GarmentModel, DrapeNetConfig, dict]:
    """Rebuild the model saved at `uri` in eval mode; returns (model, config, extra)."""
    try:
        with fsspec.open(uri, "rb", **storage_options) as handle:
            data = handle.read()
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{uri}: no garment model there") from exc
    meta = read_metadata(data, uri)
    if meta.get("format") != FORMAT:
        raise ValueError(f"{uri}: format {meta.get('format')!r} is not {FORMAT!r}")
    config = config_io.from_dict(DrapeNetConfig, meta["config"], source=uri)
    model = GarmentModel(config)
    try:
        model.load_state_dict(load_tensors(data))
    except RuntimeError as exc:
        raise ValueError(f"{uri}: tensors do not match the saved config ({exc})") from exc
    return model.to(map_location).eval(), config, meta["extra"]
