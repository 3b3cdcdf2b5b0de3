"""Batch-norm fusion (thesis ch. 4): each convolution + BatchNorm2d pair folded into one convolution.

In eval mode BN computes gamma * (z - mu) / sqrt(var + eps) + beta on the convolution's output
z = W x + b, which is again a convolution:

    W' = diag(gamma / sqrt(var + eps)) W
    b' = diag(gamma / sqrt(var + eps)) (b - mu) + beta        (b = 0 for a bias-free conv)

so the folded network has only weights and biases, which is what a PRep can hold.
"""

from __future__ import annotations

import torch
from torch import nn

from inrzoo.inr.classifier_nets import ConvNorm, classifier_module
from inrzoo.inr.classifier_spec import ClassifierSpec


@torch.no_grad()
def fold_batchnorm(weight: torch.Tensor, bias: torch.Tensor | None, bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """(W', b') of the convolution equivalent to conv(W, b) followed by `bn` in eval mode."""
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError("fold_batchnorm: the BatchNorm2d tracks no running statistics (track_running_stats=False)")
    scale = torch.rsqrt(bn.running_var + bn.eps)
    if bn.affine:
        scale = bn.weight * scale
    shift = bn.bias if bn.affine else torch.zeros_like(scale)
    base = bias if bias is not None else torch.zeros_like(bn.running_mean)
    folded_weight = weight * scale.reshape(-1, *([1] * (weight.dim() - 1)))
    return folded_weight, scale * (base - bn.running_mean) + shift


@torch.no_grad()
def fuse_batchnorm(module: nn.Module, spec: ClassifierSpec) -> tuple[nn.Module, ClassifierSpec]:
    """The folded twin (eval mode) of a network built from `spec` with norm="batch", and its spec.

    Every ConvNorm with a BatchNorm2d becomes a biased convolution; every other parameter is
    copied by name. A spec without norm returns a copy of the module unchanged in value.
    """
    fused_spec = spec.replace(norm="none")
    reference = next(module.parameters())
    fused = classifier_module(fused_spec, seed=0).to(dtype=reference.dtype, device=reference.device)
    targets = dict(fused.named_modules())
    state, folded = {}, []
    for name, sub in module.named_modules():
        if isinstance(sub, ConvNorm):
            folded.append(f"{name}.")
            if name not in targets or not isinstance(targets[name], ConvNorm):
                raise ValueError(f"fuse_batchnorm: {spec.label} has no convolution {name!r} to fold into")
            if sub.norm is None:
                weight, bias = sub.conv.weight, sub.conv.bias
            else:
                weight, bias = fold_batchnorm(sub.conv.weight, sub.conv.bias, sub.norm)
            state[f"{name}.conv.weight"], state[f"{name}.conv.bias"] = weight, bias
    for name, param in module.named_parameters():
        if not name.startswith(tuple(folded)):
            state[name] = param
    fused.load_state_dict({k: v.detach().clone() for k, v in state.items()}, strict=True)
    return fused.eval(), fused_spec
