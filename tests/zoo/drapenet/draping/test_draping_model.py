"""The draping model end to end on a hand-made store: two open tubes (a "top" and a "bottom") around
anny's trunk, tiny body fields, one training step, serving, the metrics and the baseline.

Builds anny once (seconds from its cache)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inrzoo.zoo.core.data import DataSection
from inrzoo.zoo.core.model import StepContext

pytestmark = pytest.mark.slow


def tube(radius: float, z_low: float, z_high: float, around: int = 24, rings: int = 8):
    """An open cylinder around the z axis (y shifted to anny's trunk)."""
    angles = np.linspace(0, 2 * np.pi, around, endpoint=False)
    heights = np.linspace(z_low, z_high, rings)
    vertices = np.array([[radius * np.cos(a), 0.02 + 0.8 * radius * np.sin(a), z] for z in heights for a in angles])
    faces = []
    for r in range(rings - 1):
        for k in range(around):
            a, b = r * around + k, r * around + (k + 1) % around
            faces += [[a, b, b + around], [a, b + around, a + around]]
    return vertices, np.array(faces)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from inrzoo.zoo.drapenet.draping.body_fields import BodyFields, BodyFieldsConfig, save_body_fields
    from inrzoo.zoo.drapenet.draping.garment_store import orient_away_from, write_store
    from inrzoo.zoo.drapenet.draping.model import shared_rig

    torch.set_num_threads(1)
    rig = shared_rig()
    folder = tmp_path_factory.mktemp("drape")
    body = rig.canonical_vertices.double().numpy()
    garments = []
    for radius, low, high in ((0.2, 0.0, 0.45), (0.19, -0.25, 0.1), (0.21, 0.05, 0.4), (0.2, -0.3, 0.05)):
        v, f = tube(radius, low, high)
        garments.append({"vertices": v, "faces": orient_away_from(v, f, body), "pinned": v[:, 2] > -0.05})
    codes = np.random.default_rng(0).standard_normal((4, 32)).astype(np.float32)
    record = {"config": {}, "encoder": "test codes", "ids": ["top_a", "bottom_a", "top_b", "bottom_b"],
              "types": ["tshirt", "skirt", "tshirt", "skirt"], "categories": ["top", "bottom", "top", "bottom"],
              "splits": ["train", "train", "test", "test"], "phenotype_labels": rig.phenotype_labels,
              "posed_bones": list(rig.bones), "bones": len(rig.bone_labels),
              "rest_orientations": {b: m.tolist() for b, m in rig.rest_orientations.items()}}
    write_store(str(folder / "drape.zarr"), garments, codes, record)
    cfg = BodyFieldsConfig(width=16, frequencies=2)
    torch.manual_seed(0)
    save_body_fields(BodyFields(len(rig.bone_labels), rig.beta_dim, cfg), cfg, str(folder / "body_fields.safetensors"), {})
    return folder


@pytest.fixture(scope="module")
def data(store):
    from inrzoo.zoo.drapenet.draping.data import DrapeData

    return DrapeData(DataSection(uri=str(store), options={"pose_scale": 0.5}))


def test_data_pairs_tops_and_bottoms_with_bodies_per_split(data):
    assert data.split_sizes() == {"train": 1, "val": 0, "test": 1}
    batch = next(iter(data.batches("train", 1, epoch=3, seed=1)))
    assert batch.size == 1 and batch.tops[0].category == "top" and batch.bottoms[0].category == "bottom"
    assert batch.beta.shape == (1, 6) and batch.theta.shape == (1, 11, 3)
    again = next(iter(data.batches("train", 1, epoch=3, seed=1)))
    other = next(iter(data.batches("train", 1, epoch=4, seed=1)))
    assert torch.equal(batch.theta, again.theta) and not torch.equal(batch.theta, other.theta)
    held = [next(iter(data.batches("test", 1))).theta for _ in range(2)]
    assert torch.equal(*held)  # held-out bodies are fixed
    assert len(data.digest()) == 16


def test_model_trains_serves_and_is_measured(data):
    from inrzoo.zoo.core.checkpoint import model_bytes, model_from_bytes
    from inrzoo.zoo.drapenet.draping.evaluate import METHODS, REFERENCE, evaluate
    from inrzoo.zoo.drapenet.draping.reference import ReferenceSettings
    from inrzoo.zoo.drapenet.draping.model import DrapeModelConfig, DrapeNetDraping

    torch.manual_seed(0)
    model = DrapeNetDraping(DrapeModelConfig(hidden=16), data.spec())
    assert float(model.fields_ready) == 1.0
    batch = next(iter(data.batches("train", 1)))
    losses = model.losses(batch, StepContext(torch.device("cpu")))
    for key in ("loss", "top_strain", "top_collision", "bottom_pin", "is_layer", "is"):
        assert torch.isfinite(losses[key]), key
    before = [p.detach().clone() for p in model.draper.networks.parameters()]
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    losses["loss"].backward()
    assert all(p.grad is None for p in model.draper.fields.parameters())  # the body fields stay frozen
    assert model.draper.solver.blend.net[0].weight.grad is not None
    optimizer.step()
    assert any(not torch.equal(a, b) for a, b in zip(before, model.draper.networks.parameters()))

    rows = model.example_input(batch)
    out = model.predict(rows)
    assert out.shape == (2, 3) and np.isfinite(out).all()
    with pytest.raises(ValueError, match="rows of"):
        model.predict(rows[:, :10])
    loaded, _ = model_from_bytes(model_bytes(model), "memory")  # no unpickling; fields come with the state
    assert np.allclose(loaded.predict(rows), out, atol=1e-5)

    results = evaluate(model, data, "test")
    assert set(results) == set(METHODS)
    for values in results.values():
        assert 0.0 <= values["b2g"] <= 1.0 and 0.0 <= values["g2g"] <= 1.0 and values["strain"] >= 0
    # The physics reference starts from skinning and relaxes it (here 58 J of strain to 24 J in 30 steps).
    referenced = evaluate(model, data, "test", batches=1, reference=ReferenceSettings(steps=30))
    assert set(referenced) == set(METHODS) | {REFERENCE}
    assert referenced[REFERENCE]["strain"] < 0.7 * referenced["skinning"]["strain"]


def test_the_thesis_order_trains_the_draping_networks_then_the_solver_alone(data):
    from inrzoo.zoo.drapenet.draping.model import DrapeModelConfig, DrapeNetDraping

    torch.manual_seed(0)
    model = DrapeNetDraping(DrapeModelConfig(hidden=16, solver_from_epoch=2), data.spec())
    batch = next(iter(data.batches("train", 1)))
    trained = {}
    for epoch in (1, 2):
        model.zero_grad(set_to_none=True)
        losses = model.losses(batch, StepContext(torch.device("cpu"), epoch=epoch))
        losses["loss"].backward()
        trained[epoch] = {name for name, module in (("networks", model.draper.networks), ("solver", model.draper.solver))
                          if any(p.grad is not None for p in module.parameters())}
        assert ("is" in losses) == (epoch == 2)  # the solver's forward only once it trains
    assert trained == {1: {"networks"}, 2: {"solver"}}
    assert not model.trains_every_parameter()  # so DDP looks for the unused ones
    with pytest.raises(ValueError, match="solver_from_epoch"):
        DrapeModelConfig(solver_from_epoch=-1)


def test_baseline_at_rest_on_the_average_body_is_the_garment_itself(data):
    from inrzoo.zoo.drapenet.draping.evaluate import nearest_vertex_skinning
    from inrzoo.zoo.drapenet.draping.model import shared_rig

    rig = shared_rig()
    garment = data.garment(0)
    beta, theta = rig.average_beta(1), torch.zeros(1, 11, 3)
    body = rig(beta, theta)
    draped = nearest_vertex_skinning(garment.vertices[None].float(), rig, body.rest_vertices, body.transforms)
    assert torch.allclose(draped[0], garment.vertices.float(), atol=1e-5)


def test_a_garment_the_cloth_model_cannot_take_is_left_out_with_its_reason():
    from types import SimpleNamespace

    from inrzoo.geometry import Mesh, Similarity
    from inrzoo.zoo.drapenet.draping.garment_store import canonical_garments

    good_v, faces = tube(0.2, 0.0, 0.4)
    bad_v = good_v.copy()
    bad_v[faces[0, 1]] = bad_v[faces[0, 0]]  # two vertices on one spot: a zero-area triangle
    refs = [SimpleNamespace(id="good"), SimpleNamespace(id="collapsed")]
    meshes = [Mesh(good_v, faces, source="good"), Mesh(bad_v, faces, source="collapsed")]
    axis = np.stack([np.zeros(9), np.zeros(9), np.linspace(-0.4, 0.6, 9)], axis=1)
    garments, kept, failed = canonical_garments(refs, meshes, Similarity(np.zeros(3), 1.0), axis, axis[:, 2] > 0)
    assert kept == [0] and len(garments) == 1
    assert list(failed) == ["collapsed"] and "degenerate" in failed["collapsed"]
    np.testing.assert_array_equal(garments[0]["pinned"], good_v[:, 2] > 0.0375)  # nearest axis point at z > 0
