"""Architectures by registry name, `build(spec)`, and a torch.nn.Module view of one INR."""

from __future__ import annotations

from collections.abc import Callable

import torch

from inrzoo.inr.mlp import LayeredINR, Params
from inrzoo.inr.spec import ArchSpec

Architecture = LayeredINR

# name -> constructor(spec). ReLU MLP (Davies, Sergeev), SIREN (inr2vec), LightSAL's
# kernel-1 Conv1d decoder (per-point linear layers with ReLU, input re-joined at layer 3).
REGISTRY: dict[str, Callable[[ArchSpec], Architecture]] = {
    "relu_mlp": lambda spec: LayeredINR(spec, activation="relu"),
    "siren": lambda spec: LayeredINR(spec, activation="sine"),
    "lightsal": lambda spec: LayeredINR(spec, activation="relu"),
}


def build(spec: ArchSpec | str) -> Architecture:
    """The architecture for `spec` (a spec, or a registry name for its paper default)."""
    if isinstance(spec, str):
        spec = ArchSpec.default(spec)
    if spec.name not in REGISTRY:
        raise KeyError(f"unknown architecture {spec.name!r}; known: {sorted(REGISTRY)}")
    arch = REGISTRY[spec.name](spec)
    arch.as_module = lambda params_one: INRModule(arch, params_one)  # type: ignore[attr-defined]
    return arch


class INRModule(torch.nn.Module):
    """One INR as an nn.Module: x [N, in_dim] -> [N]. Parameters keep the canonical names
    (dots become underscores in the module, since nn.Module names cannot hold dots)."""

    def __init__(self, arch: Architecture, params_one: Params):
        super().__init__()
        self.arch = arch
        self._names = list(arch.param_shapes())
        missing = [n for n in self._names if n not in params_one]
        if missing:
            raise KeyError(f"{arch.spec.label}: parameters missing {missing}")
        for name in self._names:
            value = params_one[name]
            if tuple(value.shape) != arch.param_shapes()[name]:
                raise ValueError(
                    f"{arch.spec.label}: parameter {name} has shape {tuple(value.shape)}, "
                    f"expected {arch.param_shapes()[name]} (pass one INR, without the K axis)"
                )
            self.register_parameter(name.replace(".", "_"), torch.nn.Parameter(value.detach().clone()))

    def canonical_params(self) -> Params:
        return {n: getattr(self, n.replace(".", "_")) for n in self._names}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batched = {n: p.unsqueeze(0) for n, p in self.canonical_params().items()}
        return self.arch.forward(batched, x.unsqueeze(0))[0]
