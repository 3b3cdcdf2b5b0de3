"""INR fields: the certified Lipschitz bound, decoding to the surface level, dataset rows."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from field_helpers import lumpy_dataset, lumpy_field, lumpy_params
from inrzoo import fields
from inrzoo.fields import lipschitz as bounds
from inrzoo.fit import LossConfig, make_loss
from inrzoo.inr import ArchSpec, build, stack_params

ARCHS = [
    ArchSpec.default("relu_mlp", hidden=[16] * 4),
    ArchSpec.default("siren", hidden=[16, 16], omega_0=3.0, first_omega_0=3.0),
    ArchSpec.default("relu_mlp", hidden=[16, 16, 16], skip=[2], output="none", init="torch",
                     encoding="positional", frequencies=3),
    ArchSpec.default("relu_mlp", hidden=[16, 16], output="none", init="torch", encoding="fourier",
                     fourier_features=8, fourier_sigma=1.0),
]


@pytest.mark.parametrize("spec", ARCHS, ids=lambda s: s.label)
def test_certified_bound_exceeds_every_gradient(spec):
    arch = build(spec)
    params = stack_params([arch.init_params(seed) for seed in range(3)])
    field = fields.INRField(spec, params, lipschitz="certified", radius=1.5)
    x = (torch.rand(3, 4000, 3) * 3 - 1.5).requires_grad_(True)
    (grad,) = torch.autograd.grad(field.raw(x).sum(), x)
    bound = field.lipschitz()
    assert torch.all(grad.norm(dim=-1).amax(dim=1) <= bound * (1 + 1e-5))
    # a single linear map: the bound is exact
    assert bounds.spectral_norms(torch.diag(torch.tensor([3.0, 1.0, 2.0]))[None]).item() == pytest.approx(3.0)


def test_positional_encoding_bound_is_tight_per_coordinate():
    spec = ArchSpec.default("relu_mlp", encoding="positional", frequencies=2, include_input=True)
    expected = math.sqrt(1 + math.pi**2 + (2 * math.pi) ** 2)
    assert bounds.encoding_lipschitz(build(spec)) == pytest.approx(expected)


def test_estimated_bound_is_below_the_certified_one_and_covers_samples():
    field = lumpy_field((0.4, 0.6))
    estimated = field.lipschitz()
    certified = fields.INRField(field.spec, field.params, lipschitz="certified").lipschitz()
    assert torch.all(estimated < certified)
    x = bounds.sample_ball(2000, 1.0, seed=5).unsqueeze(0).expand(2, -1, -1).clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(field.raw(x).sum(), x)
    assert torch.all(grad.norm(dim=-1).amax(dim=1) <= estimated)


def test_surface_levels_follow_the_fitting_loss():
    spec, params = lumpy_params((0.5,))
    sdf = fields.INRField(spec, params)
    assert sdf._raw_level == pytest.approx(0.0, abs=1e-9)  # tanh(0) = 0
    bce = make_loss(LossConfig(name="bce", delta=0.1), "udf")
    udf = fields.INRField(spec.replace(output="none"), params, kind="udf", decode=bce.decode)
    # decode(c) = sigmoid(c) * delta = SHELL
    assert torch.sigmoid(torch.tensor(udf._raw_level)) * 0.1 == pytest.approx(fields.neural.SHELL, rel=1e-6)
    assert udf._value_slope == pytest.approx(0.1 / 4, rel=1e-6)
    focal = make_loss(LossConfig(name="focal"), "occupancy")
    logits = {**params, "output.weight": -params["output.weight"], "output.bias": -params["output.bias"]}
    occupancy = fields.INRField(spec.replace(output="none"), logits, kind="occupancy", decode=focal.decode)
    centre, far = torch.zeros(1, 1, 3), torch.full((1, 1, 3), 0.55)
    assert occupancy.level(centre).item() < 0 < occupancy.level(far).item()  # negative inside
    assert occupancy.values(centre).item() > 0  # probability - 0.5


def test_dataset_rows_become_fields(tmp_path):
    ds = lumpy_dataset(str(tmp_path / "spheres.zarr"))
    field = fields.rows(ds, [0, 2])
    assert field.rows == 2 and field.kind == "sdf" and field.names == ["sphere0", "sphere2"]
    centre_and_far = torch.tensor([[[0.0, 0.0, 0.0], [0.95, 0.0, 0.0]]])
    values = field.values(centre_and_far)
    assert torch.all(values[:, 0] < 0) and torch.all(values[:, 1] > 0)
    points = np.random.default_rng(0).uniform(-1, 1, (100, 3)).astype(np.float32)
    np.testing.assert_allclose(fields.row(ds, 2)(points), field.select([1])(points), atol=1e-6)
    with pytest.raises(IndexError):
        fields.row(ds, 7)
