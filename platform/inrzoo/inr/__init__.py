"""INR architectures by name, their versioned specs, and batched functional evaluation.

    spec = ArchSpec.default("relu_mlp")          # Davies 8x32, 7,553 parameters
    arch = build(spec)
    params = stack_params([arch.init_params(seed)] * K)
    y = arch.forward(params, x)                  # x [K, N, 3] -> [K, N]
"""

from inrzoo.inr.mlp import LayeredINR, Params
from inrzoo.inr.spec import DEFAULTS, SPEC_VERSION, ArchSpec
from inrzoo.inr.registry import (
    REGISTRY,
    Architecture,
    INRModule,
    build,
    flatten_params,
    select_params,
    stack_params,
    unflatten_params,
    unstack_params,
)

__all__ = [
    "ArchSpec",
    "Architecture",
    "DEFAULTS",
    "INRModule",
    "LayeredINR",
    "Params",
    "REGISTRY",
    "SPEC_VERSION",
    "build",
    "flatten_params",
    "unflatten_params",
    "select_params",
    "stack_params",
    "unstack_params",
]
