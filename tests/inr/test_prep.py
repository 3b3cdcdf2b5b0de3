"""PRep: parameters row-major in parameter order into [H, W] (W % 8, H % 4), zero padded; exact inverse."""

import math

import pytest
import torch

from inrzoo.inr import (
    ArchSpec, build, classifier_module, default_spec, load_prep, module_to_prep, params_to_prep, prep_shape,
    prep_to_params, stack_params,
)


def test_prep_shape_is_the_smallest_valid_height_for_the_width():
    assert prep_shape(7553, 1024) == (8, 1024)  # ceil(7553 / 1024) = 8
    assert prep_shape(1024 * 4 + 1, 1024) == (8, 1024)
    assert prep_shape(10, 16) == (4, 16)
    with pytest.raises(ValueError, match="multiple of 8"):
        prep_shape(100, 12)


def test_layout_is_row_major_in_parameter_order_with_zero_padding():
    lin = torch.nn.Linear(3, 2)  # weight [2, 3] then bias [2]: 8 values
    prep = module_to_prep(lin, (4, 8))
    expected = torch.cat([lin.weight.detach().reshape(-1), lin.bias.detach()])
    assert torch.equal(prep[0], expected)
    assert torch.count_nonzero(prep[1:]) == 0
    wide = module_to_prep(lin, (4, 16))
    assert torch.equal(wide[0, :8], expected) and torch.count_nonzero(wide[0, 8:]) == 0


def test_too_small_or_misaligned_shapes_are_refused_with_the_needed_height():
    lin = torch.nn.Linear(30, 30)  # 930 parameters
    with pytest.raises(ValueError, match=r"needs height >= 30"):
        module_to_prep(lin, (4, 32))
    with pytest.raises(ValueError, match="multiple of 4"):
        module_to_prep(lin, (30, 32))


@pytest.mark.parametrize("name", ["relu_mlp", "siren"])
def test_stacked_inr_params_round_trip_exactly(name):
    spec = ArchSpec.default(name, hidden=[64, 64]) if name == "siren" else ArchSpec.default(name)
    arch = build(spec)
    params = stack_params([arch.init_params(seed) for seed in range(3)])
    shape = prep_shape(arch.num_params, 256)
    prep = params_to_prep(params, shape)
    assert prep.shape == (3, *shape)
    back = prep_to_params(prep, arch.param_shapes())
    assert list(back) == list(params)
    assert all(torch.equal(back[n], params[n]) for n in params)
    x = torch.rand(3, 50, 3) * 2 - 1
    assert torch.equal(arch.forward(back, x), arch.forward(params, x))


@pytest.mark.parametrize("preset", ["lenet", "plain_cnn", "resnet8", "resnet14"])
def test_classifier_modules_round_trip_exactly_through_a_prep(preset):
    spec = default_spec(preset)
    source = classifier_module(spec, seed=1)
    target = classifier_module(spec, seed=2)
    shape = prep_shape(sum(p.numel() for p in source.parameters()), 1024)
    load_prep(target, module_to_prep(source, shape))
    for (name, a), (_, b) in zip(source.named_parameters(), target.named_parameters()):
        assert torch.equal(a, b), name
    images = torch.randn(4, 1, 8, 8)
    assert torch.equal(source(images), target(images))


def test_batchnorm_resnet_module_prep_holds_conv_then_norm_parameters_in_module_order():
    spec = default_spec("resnet8").replace(norm="batch")
    net = classifier_module(spec, seed=0)
    total = sum(p.numel() for p in net.parameters())
    prep = module_to_prep(net, prep_shape(total, 512))
    flat = torch.cat([p.detach().reshape(-1) for p in net.parameters()])
    assert torch.equal(prep.reshape(-1)[:total], flat)
    assert math.prod(prep.shape) >= total


def test_decoded_prep_keeps_gradients_for_end_to_end_training():
    arch = build(default_spec("lenet"))
    shape = prep_shape(arch.num_params, 512)
    prep = torch.zeros(2, 1, *shape, requires_grad=True)
    logits = arch.forward(prep_to_params(prep, arch.param_shapes()), torch.randn(5, 1, 8, 8))
    logits.sum().backward()
    assert prep.grad is not None and prep.grad.abs().sum() > 0
    assert torch.count_nonzero(prep.grad.reshape(2, -1)[:, arch.num_params:]) == 0  # padding unused
