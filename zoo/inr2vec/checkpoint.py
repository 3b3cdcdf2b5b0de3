"""inr2vec model files written before the zoo core (format "inrzoo.inr2vec/1"), read through the core.

Migration (our statement of it): the old header held the whole Inr2vecConfig, training settings
included (optimizer, epochs, batch size, seed: now the job's `train:` section, so they are
dropped), the INR parameter shapes, and the architecture under extra["arch"]. The new header
holds the model config and a data spec (inrzoo.zoo.core.weights.WeightSpec) built from those;
the tensors are the same. `load_inr2vec` stays for the MLflow models registered before the
core, whose copied loader code imports it from here.
"""

from __future__ import annotations

import json
from typing import Any

import torch

from inrzoo.zoo.core.checkpoint import load_model

LEGACY_FORMAT = "inrzoo.inr2vec/1"
MODEL_FIELDS = ("encoder", "decoder", "teacher", "loss")


def from_inr2vec_v1(meta: dict[str, Any]) -> dict[str, Any]:
    """An old header as a zoo model-file header (see the module docstring)."""
    extra = dict(meta.get("extra") or {})
    if "arch" not in extra:
        raise ValueError("an inrzoo.inr2vec/1 model file without extra['arch'] names no INR architecture to rebuild")
    arch = json.loads(extra["arch"]) if isinstance(extra["arch"], str) else extra["arch"]
    old = meta["config"]
    teacher = dict(old.get("teacher") or {})
    spec = {"arch": arch, "param_shapes": meta["param_shapes"], "field": teacher.get("field") or "sdf",
            "fit_loss": {"name": teacher.get("inr_loss") or "l1", "delta": float(teacher.get("inr_delta", 0.1))},
            "label_names": []}
    return {"format": LEGACY_FORMAT, "model": "inr2vec", "data_kind": "weights",
            "config": {k: v for k, v in old.items() if k in MODEL_FIELDS}, "spec": spec, "extra": extra}


def load_inr2vec(uri: str, map_location: str | torch.device = "cpu", **storage_options: Any):
    """(model, extra) of any inr2vec model file, old or new format."""
    return load_model(uri, map_location, **storage_options)
