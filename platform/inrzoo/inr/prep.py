"""PRep (De Luigi's thesis, ch. 4): a network's parameters laid out as one 2D tensor.

All parameters are concatenated in the network's own parameter order (weight then bias per
layer: `module.parameters()` for a torch module, the canonical order of a stacked
`{name: [K, ...]}` dict for the functional architectures of `inrzoo.inr`), written row-major
into an [H, W] tensor and zero-padded. W is a multiple of 8 and H a multiple of 4 with
H >= ceil(P / W), so that NetSpace's decoder, which halves the height twice and the width
three times on its way up, lands exactly on the PRep size.

    shape = prep_shape(num_params, width=1024)          # smallest valid H for that W
    prep = params_to_prep(params, shape)                # {name: [K, ...]} -> [K, H, W]
    prep = flat_to_prep(flat, shape)                    # [K, P] rows -> [K, H, W]
    params = prep_to_params(prep, arch.param_shapes())  # differentiable views back
    prep = module_to_prep(net, shape); load_prep(net, prep)

Every parameter is copied bit for bit, so the round trip is exact for any dtype.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch

from inrzoo.inr.mlp import Params
from inrzoo.inr.registry import flatten_params, unflatten_params

WIDTH_MULTIPLE = 8
HEIGHT_MULTIPLE = 4


def check_prep_shape(shape: tuple[int, int], num_params: int | None = None, what: str = "PRep") -> tuple[int, int]:
    """(H, W) if valid for NetSpace (W % 8 == 0, H % 4 == 0, H * W >= num_params); else ValueError."""
    height, width = (int(v) for v in shape)
    if width <= 0 or width % WIDTH_MULTIPLE:
        raise ValueError(f"{what}: width {width} must be a positive multiple of {WIDTH_MULTIPLE}")
    if height <= 0 or height % HEIGHT_MULTIPLE:
        raise ValueError(f"{what}: height {height} must be a positive multiple of {HEIGHT_MULTIPLE}")
    if num_params is not None and num_params > height * width:
        need = math.ceil(num_params / width)
        raise ValueError(f"{what}: {num_params} parameters do not fit in {height}x{width} "
                         f"(needs height >= {need}; prep_shape({num_params}, {width}) gives a valid one)")
    return height, width


def prep_shape(num_params: int, width: int) -> tuple[int, int]:
    """The smallest valid (H, W) of the given width for `num_params` parameters."""
    if num_params <= 0:
        raise ValueError(f"PRep: a network needs parameters, got {num_params}")
    check_prep_shape((HEIGHT_MULTIPLE, width))
    rows = math.ceil(num_params / width)
    return HEIGHT_MULTIPLE * math.ceil(rows / HEIGHT_MULTIPLE), width


def params_to_prep(params: Mapping[str, torch.Tensor], shape: tuple[int, int]) -> torch.Tensor:
    """Stacked parameters {name: [K, ...]} in their dict order -> PReps [K, H, W] (zero-padded)."""
    return flat_to_prep(flatten_params(dict(params)), shape)


def flat_to_prep(flat: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """Flat parameter rows [K, P] (canonical order; trailing zeros allowed) -> PReps [K, H, W]."""
    height, width = check_prep_shape(shape, flat.shape[1])
    padded = torch.nn.functional.pad(flat, (0, height * width - flat.shape[1]))
    return padded.reshape(flat.shape[0], height, width)


def prep_to_params(prep: torch.Tensor, param_shapes: Mapping[str, tuple[int, ...]]) -> Params:
    """PReps [K, H, W] (or [K, 1, H, W]) -> {name: [K, *shape]} views in the order of `param_shapes`.

    The padding is ignored; the views keep the autograd graph, so a decoded PRep can be run
    through the functional forward of its architecture and trained end to end.
    """
    if prep.dim() == 4 and prep.shape[1] == 1:
        prep = prep[:, 0]
    if prep.dim() != 3:
        raise ValueError(f"PRep: expected [K, H, W] or [K, 1, H, W], got shape {tuple(prep.shape)}")
    total = sum(math.prod(s) for s in param_shapes.values())
    check_prep_shape(tuple(prep.shape[1:]), total)
    return unflatten_params(prep.reshape(prep.shape[0], -1)[:, :total], dict(param_shapes))


def module_params(module: torch.nn.Module) -> Params:
    """A module's parameters in its parameter order, each with a leading K=1 axis (detached)."""
    params = {name: p.detach().unsqueeze(0) for name, p in module.named_parameters()}
    if not params:
        raise ValueError(f"PRep: {type(module).__name__} has no parameters")
    return params


def module_to_prep(module: torch.nn.Module, shape: tuple[int, int]) -> torch.Tensor:
    """One module's PRep [H, W] (parameters in `module.parameters()` order)."""
    return params_to_prep(module_params(module), shape)[0]


@torch.no_grad()
def load_prep(module: torch.nn.Module, prep: torch.Tensor) -> torch.nn.Module:
    """Copy a PRep [H, W] back into the module's parameters (in place); returns the module."""
    shapes = {name: tuple(p.shape) for name, p in module.named_parameters()}
    values = prep_to_params(prep.reshape(1, *prep.shape[-2:]), shapes)
    for name, param in module.named_parameters():
        param.copy_(values[name][0])
    return module
