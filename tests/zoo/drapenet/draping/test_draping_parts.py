"""DrapeNet part 2 pieces without anny: body-field networks, the draping networks, the losses, the
metrics and the garment store/data source on a tiny hand-made store."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inrzoo.cloth import ClothMesh, vertex_normals
from inrzoo.zoo.drapenet.draping.body_fields import (BodyFields, BodyFieldsConfig, SkipMLP, load_body_fields,
                                                    save_body_fields, skinning_loss)
from inrzoo.zoo.drapenet.draping.losses import covered_depths, layer_loss, pin_loss
from inrzoo.zoo.drapenet.draping.networks import DeformationNetwork, pose_input

TINY = BodyFieldsConfig(width=16, depth=8, skip=4, frequencies=2)


def test_skip_mlp_has_nine_layers_and_joins_the_input_before_layer_four():
    net = SkipMLP(3, 24, width=256, depth=8, skip=4)
    assert len(net.layers) == 9
    assert net.layers[4].weight.shape == (256, 256 + 3)
    assert net(torch.zeros(5, 7, 3)).shape == (5, 7, 24)


def test_body_fields_weights_sum_to_one_and_files_round_trip(tmp_path):
    torch.manual_seed(0)
    fields = BodyFields(bones=10, beta_dim=6, config=TINY)
    x = torch.rand(2, 50, 3)
    w = fields.weights(x)
    assert torch.allclose(w.sum(-1), torch.ones(2, 50)) and (w >= 0).all()
    assert fields.displacement(x, torch.rand(2, 6)).shape == (2, 50, 3)
    path = save_body_fields(fields, TINY, str(tmp_path / "fields.safetensors"), {"skinning_loss": 0.5})
    loaded, cfg, meta = load_body_fields(path)
    assert cfg == TINY and meta["metrics"]["skinning_loss"] == 0.5
    assert torch.allclose(loaded.weights(x), w)
    with pytest.raises(FileNotFoundError, match="no body fields"):
        load_body_fields(str(tmp_path / "missing.safetensors"))


def test_skinning_loss_is_zero_only_at_the_target():
    target = torch.tensor([[0.7, 0.3, 0.0]])
    assert float(skinning_loss(torch.log(target.clamp_min(1e-20)), target)) == pytest.approx(0.0, abs=1e-6)
    assert float(skinning_loss(torch.zeros(1, 3), target)) > 0.1


def test_deformation_network_blends_n_b_vectors_per_point():
    torch.manual_seed(0)
    net = DeformationNetwork(pose_dim=39, code_dim=32, basis=128, hidden=32)
    assert net.blend.net[-1].out_features == 128 and net.displacements.net[-1].out_features == 128 * 3
    assert net.encoding.out_dim == 27  # NeRF encoding of 5 x, 4 frequencies (released code)
    pose = pose_input(torch.full((2, 6), 0.5), torch.zeros(2, 11, 3))
    assert pose.shape == (2, 39) and float(pose.abs().sum()) == 0.0
    out = net(pose, torch.rand(2, 40, 3), torch.rand(2, 32))
    assert out.shape == (2, 40, 3)
    with pytest.raises(ValueError, match="codes"):
        net(pose, torch.rand(2, 40, 3), torch.rand(2, 16))


def strip(z: float = 0.0, n: int = 6):
    """A flat square sheet of (n x n) vertices over [0, 1]^2 at height z, triangulated."""
    u, v = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n), indexing="ij")
    vertices = np.stack([u.ravel(), v.ravel(), np.full(n * n, z)], 1)
    faces = []
    for i in range(n - 1):
        for j in range(n - 1):
            a, b, c, d = i * n + j, (i + 1) * n + j, (i + 1) * n + j + 1, i * n + j + 1
            faces += [[a, b, c], [a, c, d]]
    return vertices, np.array(faces)


def test_pin_loss_sums_squared_displacements_of_pinned_vertices():
    displacement = torch.tensor([[[0.1, 0, 0], [0, 0.2, 0], [0, 0, 3.0]]])
    pinned = torch.tensor([True, True, False])
    assert float(pin_loss(displacement, pinned)) == pytest.approx(0.01 + 0.04)


def test_layer_loss_pushes_a_bottom_under_the_top_where_covered():
    top_v, top_f = strip(0.0)
    top = torch.as_tensor(top_v, dtype=torch.float64)
    normals = vertex_normals(top, torch.as_tensor(top_f))  # +z: the top's outside
    assert float(normals[:, 2].min()) > 0.99
    top_cloth = ClothMesh(top_v, top_f, dtype=torch.float64)
    bottom_v, bottom_f = strip(0.0, 4)
    bottom_cloth = ClothMesh(bottom_v * [0.4, 0.4, 1] + [0.3, 0.3, 0], bottom_f, dtype=torch.float64)
    base = bottom_cloth.rest_vertices[None]
    for height, expect_penalty in ((-0.05, False), (0.01, True), (-0.001, True)):
        bottom = base + torch.tensor([0, 0, height], dtype=torch.float64)
        depth, covered = covered_depths(bottom, top[None], normals[None], top_cloth.boundary)
        assert bool(covered.all())  # the small sheet lies within the top's border
        assert torch.allclose(depth, torch.full_like(depth, -height))
        loss = float(layer_loss(bottom_cloth, bottom, top[None], normals[None], top_cloth.boundary))
        m = bottom_cloth.material
        expected = m.collision_stiffness * len(bottom_v) * max(m.collision_margin + height, 0) ** 3
        assert loss == pytest.approx(expected, rel=1e-6) and (loss > 0) == expect_penalty
    # Past the top's border nothing is covered, so nothing is penalized.
    outside = base + torch.tensor([5.0, 0, 0.01], dtype=torch.float64)
    assert float(layer_loss(bottom_cloth, outside, top[None], normals[None], top_cloth.boundary)) == 0.0
