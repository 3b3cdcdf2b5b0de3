"""The store with real inrzoo architectures: batched evaluation, nn.Module, the reference
vectors through the library path, fit results."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np
import pytest
import torch

import inrzoo
from inrzoo.inr import ArchSpec, build, stack_params
from inrzoo.store import RowResult, results_from_fit
from store.weights_helpers import listing

REFERENCE = Path(__file__).resolve().parents[2] / "platform" / "inrzoo" / "data" / "reference"
SMALL = ArchSpec.default("relu_mlp", hidden=[16, 16])
SIREN = ArchSpec.default("siren", hidden=[16, 16], encoding="positional", frequencies=2)


@pytest.fixture
def dataset():
    uri = f"memory://store-inr/{uuid.uuid4().hex}.zarr"
    writer = inrzoo.create_weights(uri, listing(6), [SMALL, SIREN], chunk_rows=4, init_seed=3)
    for unit in writer.work_units():
        writer.write(unit, [RowResult(row=r, params=build(spec).init_params(r), arch=spec,
                                      transform={"center": [r, 0, 0], "scale": 2.0})
                            for r in unit for spec in [SIREN if r == 4 else SMALL]])
    return uri


def test_batched_evaluation_matches_the_architecture(dataset):
    ds = inrzoo.open_weights(dataset, arch=SMALL)
    points = torch.rand(100, 3) * 2 - 1
    values = ds.evaluate([0, 2, 3], points)
    arch = build(SMALL)
    expected = arch.forward(stack_params([arch.init_params(r) for r in (0, 2, 3)]), points.expand(3, -1, -1))
    assert values.shape == (3, 100) and torch.allclose(values, expected, atol=1e-6)
    original = points * 2.0 + torch.tensor([3.0, 0, 0])  # row 3's transform: center (3,0,0), scale 2
    assert torch.allclose(ds.evaluate([3], original, frame="original")[0], expected[2], atol=1e-5)
    with pytest.raises(ValueError, match="span architectures"):
        inrzoo.open_weights(dataset).evaluate([0, 4], points)


def test_one_inr_as_a_module(dataset):
    ds = inrzoo.open_weights(dataset)
    module = ds.module(4)
    assert isinstance(module, torch.nn.Module) and ds[4].arch == SIREN
    x = torch.rand(50, 3)
    arch = build(SIREN)
    expected = arch.forward({k: v[None] for k, v in arch.init_params(4).items()}, x[None])[0]
    assert torch.allclose(module(x), expected, atol=1e-6)


def test_reference_vectors_through_the_library():
    for name in ("reference", "reference_bf16"):
        vectors = json.loads((REFERENCE / f"{name}.vectors.json").read_text())
        ds = inrzoo.open_weights(str(REFERENCE / f"{name}.zarr"))
        position = {int(r): i for i, r in enumerate(ds.rows)}
        for item in vectors["rows"]:
            got = ds.evaluate([position[item["row"]]], np.asarray(item["points"], dtype=np.float32))[0]
            np.testing.assert_allclose(got.numpy(), item["values"], rtol=1e-4, atol=1e-5)


def test_results_from_a_fit_result_keep_each_shapes_architecture(dataset):
    class FakeFit:  # the FitResult fields results_from_fit reads
        shape_params = [build(SMALL).init_params(9), {}]
        arch = [SMALL, SMALL]
        status = ["ok", "failed"]
        errors = [None, "diverged"]
        metrics = [{"final_loss": 0.1, "steps": 5, "iou": 0.5, "stop": "patience"}, {}]

    results = results_from_fit([0, 1], FakeFit, transforms=[None, None])
    writer = inrzoo.store.WeightWriter.open(dataset)
    writer.write(range(0, 4), results)
    ds = inrzoo.open_weights(dataset, status=None)
    assert ds[0].metrics == {"final_loss": pytest.approx(0.1), "steps": 5, "iou": 0.5, "stop": "patience"}
    assert (ds[1].status, ds[1].error) == ("failed", "diverged")
    assert torch.equal(ds[0].params["output.bias"], build(SMALL).init_params(9)["output.bias"])
