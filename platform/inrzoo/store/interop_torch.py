"""The .pth INR zoos of DWSNets and NFN in, as inrzoo SIREN rows (read with weights_only=True).

Both zoos hold one torch state_dict per image INR (2D coordinates -> intensity), a SIREN with
two hidden layers of 32 units and sin(30 (W h + b)) activations:

- DWSNets (Navon et al. 2023, `nn/inr.py` INR(in_dim=2, n_layers=3, up_scale=16)): keys
  `seq.0.weight`, `seq.0.bias`, `seq.1.*`, `seq.2.*` (the last one linear), and the forward
  adds 0.5 to the output; that constant is folded into `output.bias` (exact: W h + b + 0.5).
  The class is the second-to-last `_` field of the grandparent folder
  (`mnist_png_training_2_23/checkpoints/*.pth` -> 2), the split "train" when the path says so,
  else "test" (their generate_data_splits.py).
- NFN (Zhou et al. 2023, `experiments/siren_utils.py` Siren(2, 32, 1 hidden layer, 1,
  outermost_linear)): keys `net.0.linear.*`, `net.1.linear.*`, `net.2.*`; the class is the
  digit of `_<d>s` in the path (their SirenDataset), no split.

Weights are [out, in] like inrzoo's canonical order, so nothing is transposed. Any other
state_dict of Linear layers (2 tensors per layer, weight then bias) also loads under
kind "state_dict" when --arch describes it.
"""

from __future__ import annotations

import io
import re
from pathlib import PurePosixPath
from typing import Any

import numpy as np

DWSNETS_OUTPUT_OFFSET = 0.5  # DWSNets' INR.forward returns seq(x) + 0.5
IMAGE_SIREN = {"hidden": [32, 32], "in_dim": 2, "out_dim": 1, "output": "none", "omega_0": 30.0,
               "first_omega_0": 30.0, "init": "siren"}


def _state_dict(data: bytes, uri: str) -> dict[str, np.ndarray]:
    import torch

    from inrzoo.store.interop import InteropError

    try:
        loaded = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError... for foreign files
        raise InteropError(f"{uri}: not a weights-only torch state_dict ({type(exc).__name__}: {exc})") from exc
    if isinstance(loaded, dict) and "state_dict" in loaded and isinstance(loaded["state_dict"], dict):
        loaded = loaded["state_dict"]  # checkpoints that wrap the state_dict
    if not isinstance(loaded, dict) or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        raise InteropError(f"{uri}: expected a state_dict of tensors, got {type(loaded).__name__}")
    return {str(k): v.detach().float().numpy() for k, v in loaded.items()}


def _linear_layers(state: dict[str, np.ndarray], uri: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """(weight, bias) per Linear layer in the state_dict's order."""
    from inrzoo.store.interop import InteropError

    names = list(state)
    if len(names) % 2 or not all(w.endswith("weight") and b.endswith("bias") for w, b in zip(names[0::2], names[1::2])):
        raise InteropError(f"{uri}: keys {names} are not weight/bias pairs of Linear layers")
    return [(state[w], state[b]) for w, b in zip(names[0::2], names[1::2])]


def _to_params(layers, layout, uri: str) -> dict[str, np.ndarray]:
    from inrzoo.store.interop import _dense_to_params

    return _dense_to_params(layers, layout, uri, transpose=False)


def _label(pattern: str, uri: str, group: int = 1) -> str | None:
    found = re.search(pattern, uri)
    return found.group(group) if found else None


def read_dwsnets_pth(data: bytes, uri: str, layout) -> list[tuple[dict, Any, dict]]:
    layers = _linear_layers(_state_dict(data, uri), uri)
    params = _to_params(layers, layout, uri)
    params["output.bias"] = params["output.bias"] + np.float32(DWSNETS_OUTPUT_OFFSET)
    parts = PurePosixPath(uri).parent.parent.name.split("_")
    label = parts[-2] if len(parts) >= 2 else None
    split = "train" if "train" in uri else "test"
    return [(params, label, {"split": split, "output_offset_folded": DWSNETS_OUTPUT_OFFSET})]


def read_nfn_pth(data: bytes, uri: str, layout) -> list[tuple[dict, Any, dict]]:
    params = _to_params(_linear_layers(_state_dict(data, uri), uri), layout, uri)
    return [(params, _label(r"_(\d)s", uri), {})]


def read_state_dict_pth(data: bytes, uri: str, layout) -> list[tuple[dict, Any, dict]]:
    return [(_to_params(_linear_layers(_state_dict(data, uri), uri), layout, uri), None, {})]
