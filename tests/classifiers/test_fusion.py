"""Batch-norm fusion: the folded network equals the batch-norm one in eval mode."""

import pytest
import torch

from inrzoo.classifiers import fold_batchnorm, fuse_batchnorm
from inrzoo.inr import build, classifier_module, default_spec


def _with_trained_statistics(spec, seed=0):
    """A batch-norm network whose running statistics and affine terms are far from the identity."""
    net = classifier_module(spec, seed=seed)
    gen = torch.Generator().manual_seed(seed)
    net.train()
    with torch.no_grad():
        for _ in range(5):
            net(torch.randn(32, 1, 8, 8, generator=gen) * 3 + 1)
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 2.0, generator=gen)
                module.bias.uniform_(-1.0, 1.0, generator=gen)
    return net.eval()


def test_fold_matches_the_formula_of_the_thesis():
    conv = torch.nn.Conv2d(2, 3, 3, bias=True)
    bn = torch.nn.BatchNorm2d(3)
    with torch.no_grad():
        bn.running_mean.copy_(torch.tensor([0.5, -1.0, 2.0]))
        bn.running_var.copy_(torch.tensor([4.0, 0.25, 1.0]))
        bn.weight.copy_(torch.tensor([2.0, 1.0, -1.0]))
        bn.bias.copy_(torch.tensor([0.0, 3.0, 1.0]))
    w, b = fold_batchnorm(conv.weight, conv.bias, bn)
    s = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    torch.testing.assert_close(w, conv.weight * s[:, None, None, None])
    torch.testing.assert_close(b, s * conv.bias + bn.bias - bn.weight * bn.running_mean / torch.sqrt(bn.running_var + bn.eps))


# Tolerance: folding reorders float32 rounding only; logits of size ~1-10 agree to 1e-4 relative.
@pytest.mark.parametrize("preset", ["resnet8", "resnet14", "plain_cnn"])
def test_fused_network_outputs_equal_the_batchnorm_network_in_eval_mode(preset):
    spec = default_spec(preset).replace(norm="batch")
    net = _with_trained_statistics(spec)
    fused, fused_spec = fuse_batchnorm(net, spec)
    assert fused_spec.norm == "none"
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    images = torch.randn(16, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(fused(images), net(images), rtol=1e-4, atol=1e-5)
    # Folded in float64 the two agree to rounding: the identity is exact, not approximate.
    net64 = net.double()
    fused64 = fuse_batchnorm(net64, spec)[0]
    with torch.no_grad():
        torch.testing.assert_close(fused64(images.double()), net64(images.double()), rtol=1e-10, atol=1e-12)


def test_fused_parameters_run_through_the_registered_architecture():
    spec = default_spec("resnet8").replace(norm="batch")
    net = _with_trained_statistics(spec, seed=3)
    fused, fused_spec = fuse_batchnorm(net, spec)
    arch = build(fused_spec)
    params = {n: p.detach().unsqueeze(0) for n, p in fused.named_parameters()}
    assert list(params) == list(arch.param_shapes())
    images = torch.randn(8, 1, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(arch.forward(params, images)[0], net(images), rtol=1e-4, atol=1e-5)
