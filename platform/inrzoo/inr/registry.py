"""Architectures by registry name, `build(spec)`, a torch.nn.Module view of one INR, and moving
between one-INR parameter dicts, stacked [K, ...] dicts and flat [K, P] rows (canonical order)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch

from inrzoo.inr import classifier_spec
from inrzoo.inr.classifier_arch import ClassifierArchitecture
from inrzoo.inr.classifier_spec import ClassifierSpec
from inrzoo.inr.mlp import LayeredINR, Params
from inrzoo.inr.spec import DEFAULTS, ArchSpec

Architecture = LayeredINR | ClassifierArchitecture
Spec = ArchSpec | ClassifierSpec

# name -> constructor(spec). ReLU MLP (Davies, Sergeev), SIREN (inr2vec), LightSAL's
# kernel-1 Conv1d decoder (per-point linear layers with ReLU, input re-joined at layer 3);
# the image-classifier families of NetSpace's zoos.
REGISTRY: dict[str, Callable[[Spec], Architecture]] = {
    "relu_mlp": lambda spec: LayeredINR(spec, activation="relu"),
    "siren": lambda spec: LayeredINR(spec, activation="sine"),
    "lightsal": lambda spec: LayeredINR(spec, activation="relu"),
    "lenet": ClassifierArchitecture,
    "plain_cnn": ClassifierArchitecture,
    "resnet": ClassifierArchitecture,
}
# name -> the spec dataclass that describes it.
SPEC_TYPES: dict[str, type] = {
    **{name: ArchSpec for name in ("relu_mlp", "siren", "lightsal")},
    **{name: ClassifierSpec for name in ("lenet", "plain_cnn", "resnet")},
}


def default_spec(name: str) -> Spec:
    """The paper setup of a registry name or preset (relu_mlp, siren, lenet, resnet8, ...)."""
    if name in DEFAULTS:
        return ArchSpec.default(name)
    if name in classifier_spec.DEFAULTS:
        return ClassifierSpec.default(name)
    raise KeyError(f"unknown architecture {name!r}; known: {sorted({*DEFAULTS, *classifier_spec.DEFAULTS})}")


def spec_from_dict(data: dict, source: str = "<dict>") -> Spec:
    """A spec from plain data, of the type its registry name calls for."""
    name = data.get("name", "relu_mlp") if isinstance(data, dict) else None
    if name not in SPEC_TYPES:
        raise KeyError(f"{source}: unknown architecture {name!r}; known: {sorted(SPEC_TYPES)}")
    return SPEC_TYPES[name].from_dict(data, source=source)


def build(spec: Spec | str) -> Architecture:
    """The architecture for `spec` (a spec, or a registry name for its paper default)."""
    if isinstance(spec, str):
        spec = default_spec(spec)
    if spec.name not in REGISTRY:
        raise KeyError(f"unknown architecture {spec.name!r}; known: {sorted(REGISTRY)}")
    arch = REGISTRY[spec.name](spec)
    if not hasattr(arch, "as_module"):
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

def stack_params(items: Sequence[Params]) -> Params:
    """[{name: [...]}] * K -> {name: [K, ...]}; all items must share names and shapes."""
    if not items:
        raise ValueError("stack_params: no parameter sets given")
    names = list(items[0])
    for i, item in enumerate(items):
        if list(item) != names:
            raise ValueError(f"stack_params: item {i} has parameters {list(item)}, expected {names}")
    return {n: torch.stack([item[n] for item in items]) for n in names}


def select_params(params: Params, index: int | Sequence[int] | torch.Tensor) -> Params:
    """Rows of a stacked dict: an int drops the K axis, a sequence keeps it."""
    if isinstance(index, int):
        return {n: p[index] for n, p in params.items()}
    idx = torch.as_tensor(index, dtype=torch.long)
    return {n: p[idx.to(p.device)] for n, p in params.items()}


def unstack_params(params: Params) -> list[Params]:
    k = next(iter(params.values())).shape[0]
    return [select_params(params, i) for i in range(k)]


def flatten_params(params: Params) -> torch.Tensor:
    """{name: [K, ...]} -> one [K, P] tensor, parameters concatenated in canonical (dict) order."""
    return torch.cat([p.reshape(p.shape[0], -1) for p in params.values()], dim=1)


def unflatten_params(flat: torch.Tensor, shapes: dict[str, tuple[int, ...]]) -> Params:
    """[K, P] -> {name: [K, *shape]} as views (differentiable), in the order of `shapes`."""
    sizes = [math.prod(s) for s in shapes.values()]
    if sum(sizes) != flat.shape[1]:
        raise ValueError(f"unflatten_params: {flat.shape[1]} values per row, the shapes need {sum(sizes)}")
    parts = torch.split(flat, sizes, dim=1)
    return {n: part.reshape((flat.shape[0], *s)) for (n, s), part in zip(shapes.items(), parts)}
