"""Architectures: exact forward definitions against torch.nn references, parameter order,
shared initialization, batched evaluation."""

import math

import pytest
import torch

from inrzoo.inr import ArchSpec, build, flatten_params, select_params, stack_params, unflatten_params


def test_davies_relu_mlp_has_7553_parameters_in_canonical_order():
    arch = build("relu_mlp")
    assert arch.num_params == 7553
    names = list(arch.param_shapes())
    assert names[:2] == ["layers.0.weight", "layers.0.bias"] and names[-2:] == ["output.weight", "output.bias"]
    assert arch.param_shapes()["layers.0.weight"] == (32, 3)
    assert list(arch.init_params(0)) == names


def test_siren_inr2vec_default_is_four_hidden_layers_of_512():
    shapes = build("siren").param_shapes()
    assert [s for n, s in shapes.items() if n.endswith("weight")] == [(512, 3), (512, 512), (512, 512), (512, 512), (1, 512)]


def _reference_relu(params, spec):
    layers = []
    for i, _ in enumerate(spec.hidden):
        lin = torch.nn.Linear(*reversed(params[f"layers.{i}.weight"].shape))
        lin.weight.data, lin.bias.data = params[f"layers.{i}.weight"], params[f"layers.{i}.bias"]
        layers += [lin, torch.nn.ReLU()]
    out = torch.nn.Linear(spec.hidden[-1], 1)
    out.weight.data, out.bias.data = params["output.weight"], params["output.bias"]
    return torch.nn.Sequential(*layers, out, torch.nn.Tanh())


def test_relu_mlp_matches_a_torch_sequential_with_the_same_weights():
    spec = ArchSpec.default("relu_mlp", hidden=[16] * 4)
    arch = build(spec)
    params = arch.init_params(3)
    x = torch.rand(200, 3) * 2 - 1
    ref = _reference_relu(params, spec)(x).squeeze(-1)
    got = arch.forward(stack_params([params]), x.unsqueeze(0))[0]
    torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-6)


def test_siren_matches_sin_of_omega_times_linear():
    spec = ArchSpec.default("siren", hidden=[64, 64], omega_0=30.0, first_omega_0=30.0)
    arch = build(spec)
    p = arch.init_params(1)
    x = torch.rand(100, 3) * 2 - 1
    h = torch.sin(30.0 * (x @ p["layers.0.weight"].T + p["layers.0.bias"]))
    h = torch.sin(30.0 * (h @ p["layers.1.weight"].T + p["layers.1.bias"]))
    ref = (h @ p["output.weight"].T + p["output.bias"]).squeeze(-1)
    torch.testing.assert_close(arch.forward(stack_params([p]), x[None])[0], ref, rtol=1e-5, atol=1e-5)


def test_siren_initialization_bounds():
    p = build(ArchSpec.default("siren", hidden=[256, 256])).init_params(0)
    assert p["layers.0.weight"].abs().max() <= 1.0 / 3
    assert p["layers.1.weight"].abs().max() <= math.sqrt(6 / 256) / 30
    assert p["layers.1.weight"].abs().max() > 0.9 * math.sqrt(6 / 256) / 30


def test_lightsal_matches_kernel1_conv1d_decoder_with_input_skip_at_layer_3():
    arch = build("lightsal")
    p = arch.init_params(0, dtype=torch.float64)
    p = {n: v + 0.01 * torch.randn_like(v) for n, v in p.items()}  # leave the geometric init's zeros
    x = torch.rand(1, 3, 50, dtype=torch.float64) * 2 - 1  # Conv1d layout [batch, channels, points]
    widths = [128, 256, 512, 128, 256, 512]
    assert p["layers.2.weight"].shape == (512, 256 + 3)
    h = x
    for i, w in enumerate(widths):
        if i == 2:
            h = torch.cat((h, x), dim=1)
        conv = torch.nn.Conv1d(h.shape[1], w, kernel_size=1).double()
        conv.weight.data = p[f"layers.{i}.weight"].unsqueeze(-1)
        conv.bias.data = p[f"layers.{i}.bias"]
        h = torch.relu(conv(h))
    out = torch.nn.Conv1d(512, 1, kernel_size=1).double()
    out.weight.data, out.bias.data = p["output.weight"].unsqueeze(-1), p["output.bias"]
    ref = out(h)[0, 0]  # no final activation
    got = arch.forward(stack_params([p]), x.transpose(1, 2))[0]
    torch.testing.assert_close(got, ref)


def test_geometric_init_starts_near_a_sphere():
    arch = build("lightsal")
    x = torch.nn.functional.normalize(torch.randn(1, 4000, 3), dim=-1) * torch.rand(1, 4000, 1) * 2
    f = arch.forward(stack_params([arch.init_params(0)]), x)[0]
    r = x[0].norm(dim=-1)
    assert ((f < 0) == (r < 1)).float().mean() > 0.75
    assert torch.corrcoef(torch.stack([f, r]))[0, 1] > 0.9


def test_batched_forward_equals_each_inr_alone():
    arch = build(ArchSpec.default("relu_mlp", hidden=[16] * 3, skip=[2], encoding="positional", frequencies=3))
    params = stack_params([arch.init_params(s) for s in range(3)])
    x = torch.rand(3, 64, 3)
    batched = arch.forward(params, x)
    for i in range(3):
        alone = arch.forward(select_params(params, [i]), x[i : i + 1])[0]
        torch.testing.assert_close(batched[i], alone, rtol=1e-5, atol=1e-6)


def test_shared_initialization_is_reproducible_from_the_seed():
    arch = build("relu_mlp")
    a, b, c = arch.init_params(7), arch.init_params(7), arch.init_params(8)
    assert all(torch.equal(a[n], b[n]) for n in a)
    assert not torch.equal(a["layers.1.weight"], c["layers.1.weight"])
    assert torch.equal(a["layers.0.bias"], torch.zeros(32))  # Keras Dense: zero biases


def test_as_module_matches_forward_and_trains():
    arch = build(ArchSpec.default("relu_mlp", hidden=[8, 8]))
    params = arch.init_params(0)
    module = arch.as_module(params)
    x = torch.rand(10, 3)
    torch.testing.assert_close(module(x), arch.forward(stack_params([params]), x[None])[0])
    module(x).sum().backward()
    assert module.output_weight.grad is not None
    with pytest.raises(ValueError, match="without the K axis"):
        arch.as_module(stack_params([params]))


def test_flatten_unflatten_roundtrip_keeps_order():
    arch = build(ArchSpec.default("relu_mlp", hidden=[4, 4]))
    params = stack_params([arch.init_params(0), arch.init_params(1)])
    flat = flatten_params(params)
    assert flat.shape == (2, arch.num_params)
    back = unflatten_params(flat, arch.param_shapes())
    assert list(back) == list(params) and all(torch.equal(back[n], params[n]) for n in params)
