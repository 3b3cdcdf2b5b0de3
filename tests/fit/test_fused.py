"""The fused MLP kernel (inrzoo.fit.fused) against the torch path: losses, gradients and
predictions equal within float rounding, and a fit through the engine that follows the torch
fit. Where CUDA is present the compiled kernel runs on it; elsewhere Triton's interpreter runs
it on CPU tensors (small sizes). Skipped where triton is not installed (it is no dependency of
the project: the GPU machines bring it)."""

import dataclasses
import os

import numpy as np
import pytest
import torch
from fit.fit_helpers import sphere_samples, tiny_config

CUDA = torch.cuda.is_available()
if not CUDA:
    # Before the kernel module is imported (at the first FusedMLP): interpret it on the CPU.
    os.environ.setdefault("TRITON_INTERPRET", "1")

pytest.importorskip("triton")

from inrzoo.fit import LossConfig, fit_batch, make_loss  # noqa: E402
from inrzoo.fit.engine import GroupFitter  # noqa: E402
from inrzoo.fit.fused import FusedMLP, Launch, choose_kernel  # noqa: E402
from inrzoo.inr import ArchSpec, build, flatten_params, unflatten_params  # noqa: E402

DEVICE = torch.device("cuda" if CUDA else "cpu")
K, BATCH = (64, 2048) if CUDA else (3, 40)  # the interpreter runs each program in numpy: keep it small

CASES = {
    "davies-8x32-tanh-l1": (ArchSpec.default("relu_mlp"), "l1"),
    "relu-2x48-padded-bce": (ArchSpec.default("relu_mlp", hidden=[48] * 2, output="none"), "bce"),
    "relu-1x16-curriculum": (ArchSpec.default("relu_mlp", hidden=[16]), "curriculum"),
    "siren-3x32-l1": (ArchSpec.default("siren", hidden=[32] * 3), "l1"),
    "siren-2x64-positional-clamped": (ArchSpec.default("siren", hidden=[64] * 2, encoding="positional",
                                                       frequencies=4), "clamped_l1"),
}


def _problem(spec: ArchSpec, k: int, batch: int, seed: int = 0):
    arch = build(spec)
    gen = torch.Generator().manual_seed(seed)
    rows = [flatten_params({n: p.unsqueeze(0) for n, p in arch.init_params(seed + i).items()}) for i in range(k)]
    params = torch.cat(rows).to(DEVICE)
    x = (torch.rand(k, batch, 3, generator=gen) * 2 - 1).to(DEVICE)
    y = (x.norm(dim=-1) - torch.linspace(0.2, 0.6, k, device=DEVICE)[:, None]).contiguous()
    epochs = torch.arange(k, device=DEVICE) * 400  # the curriculum's schedule changes with the epoch
    return arch, params, x, y, epochs


def _torch_path(arch, loss_fn, params, x, y, epochs):
    leaf = params.clone().requires_grad_(True)
    per_shape = loss_fn(arch.forward(unflatten_params(leaf, arch.param_shapes()), x), y, epochs)
    (grad,) = torch.autograd.grad(per_shape.sum(), leaf)
    return per_shape.detach(), grad


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_fused_kernel_equals_the_torch_path(name):
    spec, loss_name = CASES[name]
    arch, params, x, y, epochs = _problem(spec, K, BATCH)
    loss_fn = make_loss(LossConfig(name=loss_name), "sdf")
    fused = FusedMLP(arch, loss_fn, launch=Launch(tile=64 if CUDA else 16))
    loss, grad = fused.loss_and_grad(params, x, y, epochs)
    ref_loss, ref_grad = _torch_path(arch, loss_fn, params, x, y, epochs)
    torch.testing.assert_close(loss, ref_loss, rtol=1e-5, atol=1e-6)
    # Gradients: relative to each shape's largest entry (summation orders differ).
    scale = ref_grad.abs().amax(dim=1, keepdim=True)
    assert float(((grad - ref_grad).abs() / scale).max()) < 1e-4
    pred = fused.forward(params, x)
    torch.testing.assert_close(pred, arch.forward(unflatten_params(params, arch.param_shapes()), x),
                               rtol=1e-5, atol=1e-6)


def test_the_fused_kernel_is_deterministic_and_covers_every_point():
    arch, params, x, y, epochs = _problem(CASES["davies-8x32-tanh-l1"][0], K, BATCH + 7, seed=3)
    fused = FusedMLP(arch, make_loss(LossConfig(name="l1"), "sdf"), launch=Launch(tile=64 if CUDA else 16))
    first = fused.loss_and_grad(params, x, y, epochs)
    again = fused.loss_and_grad(params, x, y, epochs)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    ref_loss, ref_grad = _torch_path(arch, fused.loss_fn, params, x, y, epochs)
    torch.testing.assert_close(first[0], ref_loss, rtol=1e-5, atol=1e-6)  # the last, partial tile counts


@pytest.mark.skipif(not CUDA, reason="lower-precision products need tensor cores (the interpreter has none)")
@pytest.mark.parametrize("precision,bound", [("tf32x3", 1e-4), ("tf32", 2e-2), ("bf16", 1e-1)])
def test_lower_precision_products_stay_near_the_torch_path(precision, bound):
    arch, params, x, y, epochs = _problem(CASES["davies-8x32-tanh-l1"][0], K, BATCH)
    fused = FusedMLP(arch, make_loss(LossConfig(name="l1"), "sdf"), precision=precision)
    loss, grad = fused.loss_and_grad(params, x, y, epochs)
    ref_loss, ref_grad = _torch_path(arch, fused.loss_fn, params, x, y, epochs)
    torch.testing.assert_close(loss, ref_loss, rtol=bound, atol=1e-5)
    assert float((grad - ref_grad).norm() / ref_grad.norm()) < bound


def test_a_fused_fit_follows_the_torch_fit():
    cfg = dataclasses.replace(tiny_config(max_epochs=3), device=str(DEVICE), batch_size=32)
    shapes = [sphere_samples(0.4 + 0.1 * i, 128, i) for i in range(3)]
    torch_fit = fit_batch(shapes, dataclasses.replace(cfg, mlp_kernel="torch"), stream_ids=[4, 5, 6])
    fused_fit = fit_batch(shapes, dataclasses.replace(cfg, mlp_kernel="fused"), stream_ids=[4, 5, 6])
    assert torch_fit.kernels == ["torch"] * 3 and fused_fit.kernels == ["fused-fp32"] * 3
    for a, b in zip(torch_fit.metrics, fused_fit.metrics):
        assert (a["steps"], a["epochs"]) == (b["steps"], b["epochs"])
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-4)
    for a, b in zip(torch_fit.shape_params, fused_fit.shape_params):
        for name in a:
            torch.testing.assert_close(b[name], a[name], rtol=1e-4, atol=1e-5)


def test_auto_picks_the_fused_kernel_only_where_it_applies():
    l1 = make_loss(LossConfig(name="l1"), "sdf")
    davies = build(ArchSpec.default("relu_mlp"))
    cuda, cpu = torch.device("cuda"), torch.device("cpu")
    assert choose_kernel("auto", davies, l1, 0.0, "float32", cpu) == "torch"
    assert choose_kernel("torch", davies, l1, 0.0, "float32", cuda) == "torch"
    assert choose_kernel("auto", davies, l1, 0.0, "float32", cuda) == "fused"
    unsupported = {
        "hidden widths": (build(ArchSpec.default("siren")), 0.0, "float32"),  # 4x512
        "skip connections": (build(ArchSpec.default("relu_mlp", hidden=[32] * 4, skip=[2])), 0.0, "float32"),
        "eikonal": (davies, 0.1, "float32"),
        "dtype float64": (davies, 0.0, "float64"),
    }
    for why, (arch, eikonal, dtype) in unsupported.items():
        assert choose_kernel("auto", arch, l1, eikonal, dtype, cuda) == "torch"
        with pytest.raises(ValueError, match=why):
            choose_kernel("fused", arch, l1, eikonal, dtype, cuda)


def test_the_engine_records_which_kernel_ran():
    cfg = dataclasses.replace(tiny_config(max_epochs=1), device=str(DEVICE), mlp_kernel="fused",
                              fused_precision="fp32")
    shapes = [sphere_samples(0.4, 64, 0)]
    fitter = GroupFitter(build(cfg.arch), [shapes[0].points], [shapes[0].values], [0],
                         make_loss(cfg.loss, "sdf"), cfg)
    assert fitter.kernel == "fused-fp32"
    assert np.isfinite(fitter.run().records[0].loss)
