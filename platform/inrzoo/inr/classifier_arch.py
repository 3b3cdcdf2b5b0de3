"""Stored image classifiers as an `inrzoo.inr` architecture: canonical order, init, batched forward.

The interface is the one of `LayeredINR`, so the store, the registry and the zoo treat a
classifier group like an INR group: `param_shapes()` in canonical order (the folded module's
`named_parameters()` order: weight then bias per layer), `init_params(seed)`, and
`forward(params, x)` for K networks at once with parameters `{name: [K, ...]}`.

The reference forward is the torch module itself run through `torch.func.functional_call`,
vectorized over K with `torch.func.vmap` (convolutions become grouped convolutions), so the
stored parameters are always read by the very code that trained them.
"""

from __future__ import annotations

import math

import torch
from torch.func import functional_call, vmap

from inrzoo.inr.classifier_nets import classifier_module
from inrzoo.inr.classifier_spec import ClassifierSpec
from inrzoo.inr.mlp import Params


class ClassifierArchitecture:
    def __init__(self, spec: ClassifierSpec):
        if spec.norm != "none":
            raise ValueError(
                f"{spec.label}: a stored classifier must have its batch norm folded into the convolutions "
                f"(norm='none'); fold a trained network with inrzoo.classifiers.fuse_batchnorm first"
            )
        self.spec = spec
        self.module = classifier_module(spec, seed=0).eval()
        self._shapes = {name: tuple(p.shape) for name, p in self.module.named_parameters()}

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        return dict(self._shapes)

    @property
    def num_params(self) -> int:
        return sum(math.prod(s) for s in self._shapes.values())

    def init_params(self, seed: int, dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu") -> Params:
        """torch's default initialization of the module, drawn from `seed` (CPU, float32, then cast)."""
        module = classifier_module(self.spec, seed=seed)
        return {n: p.detach().to(device=device, dtype=dtype) for n, p in module.named_parameters()}

    def forward(self, params: Params, x: torch.Tensor) -> torch.Tensor:
        """Logits of K networks: x [K, N, C, S, S] (own images each) or [N, C, S, S] (shared) -> [K, N, classes]."""
        spec = self.spec
        image = (spec.in_channels, spec.image_size, spec.image_size)
        if x.dim() not in (4, 5) or tuple(x.shape[-3:]) != image:
            raise ValueError(f"{spec.label}: forward expects images [K, N, {image[0]}, {image[1]}, {image[2]}] "
                             f"or [N, ...], got {tuple(x.shape)}")
        missing = [n for n in self._shapes if n not in params]
        if missing:
            raise KeyError(f"{spec.label}: parameters missing {missing}")

        def one(p: Params, images: torch.Tensor) -> torch.Tensor:
            return functional_call(self.module, p, (images,))

        ordered = {n: params[n] for n in self._shapes}
        return vmap(one, in_dims=(0, 0 if x.dim() == 5 else None))(ordered, x)

    def as_module(self, params_one: Params) -> torch.nn.Module:
        """One network (parameters without the K axis) as a fresh eval-mode torch module."""
        module = classifier_module(self.spec, seed=0)
        shapes = self.param_shapes()
        for name, value in params_one.items():
            if name in shapes and tuple(value.shape) != shapes[name]:
                raise ValueError(f"{self.spec.label}: parameter {name} has shape {tuple(value.shape)}, "
                                 f"expected {shapes[name]} (pass one network, without the K axis)")
        module.load_state_dict({n: v.detach().float() for n, v in params_one.items()}, strict=True)
        return module.eval()
