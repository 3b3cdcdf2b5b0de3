"""Architectures by name (INRs and NetSpace's image classifiers), their versioned specs,
batched functional evaluation and PRep.

    spec = ArchSpec.default("relu_mlp")          # Davies 8x32, 7,553 parameters
    arch = build(spec)
    params = stack_params([arch.init_params(seed)] * K)
    y = arch.forward(params, x)                  # x [K, N, 3] -> [K, N]
    logits = build("resnet8").forward(params, images)   # images [K, N, 1, 8, 8] -> [K, N, 10]
"""

from inrzoo.inr.classifier_arch import ClassifierArchitecture
from inrzoo.inr.classifier_nets import classifier_module
from inrzoo.inr.classifier_spec import ClassifierSpec
from inrzoo.inr.mlp import LayeredINR, Params
from inrzoo.inr.spec import DEFAULTS, SPEC_VERSION, ArchSpec
from inrzoo.inr.registry import (
    REGISTRY,
    SPEC_TYPES,
    Architecture,
    INRModule,
    Spec,
    build,
    default_spec,
    flatten_params,
    select_params,
    spec_from_dict,
    stack_params,
    unflatten_params,
    unstack_params,
)
from inrzoo.inr.prep import check_prep_shape, flat_to_prep, load_prep, module_to_prep, params_to_prep, prep_shape, prep_to_params

__all__ = [
    "ArchSpec",
    "Architecture",
    "ClassifierArchitecture",
    "ClassifierSpec",
    "SPEC_TYPES",
    "Spec",
    "check_prep_shape",
    "classifier_module",
    "default_spec",
    "flat_to_prep",
    "load_prep",
    "module_to_prep",
    "params_to_prep",
    "prep_shape",
    "prep_to_params",
    "spec_from_dict",
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
