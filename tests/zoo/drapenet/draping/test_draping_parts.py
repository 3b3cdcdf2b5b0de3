"""DrapeNet part 2 pieces without anny: body-field networks, the draping networks, the losses, the
metrics and the garment store/data source on a tiny hand-made store."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inrzoo.cloth import ClothMesh, signed_distances, vertex_normals
from inrzoo.zoo.drapenet.draping.body_fields import (BodyFields, BodyFieldsConfig, SkipMLP, diffused, load_body_fields,
                                                    save_body_fields, skinning_loss)
from inrzoo.zoo.drapenet.draping.losses import COVER_RADIUS, covered_depths, layer_loss, outfit_layering, pin_loss
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


def test_rest_anchored_network_is_still_at_rest_and_moves_elsewhere():
    torch.manual_seed(0)
    free, anchored = (DeformationNetwork(39, 32, 16, 32, rest_anchored=flag) for flag in (False, True))
    anchored.load_state_dict(free.state_dict())
    for net in (free, anchored):  # a nonzero blend bias, as a trained B has
        torch.nn.init.normal_(net.blend.net[-1].bias)
    rest = pose_input(torch.full((2, 6), 0.5), torch.zeros(2, 11, 3))
    posed = pose_input(torch.full((2, 6), 0.5), 0.3 * torch.randn(2, 11, 3))
    points, codes = torch.rand(2, 40, 3), torch.rand(2, 32)
    assert float(free(rest, points, codes).abs().max()) > 1e-3
    assert float(anchored(rest, points, codes).abs().max()) == 0.0
    moved = anchored(posed, points, codes)
    expected = free(posed, points, codes) - free(rest, points, codes)  # (B(p) - B(0)) . M = B(p).M - B(0).M
    torch.testing.assert_close(moved, expected, rtol=1e-4, atol=1e-7)
    assert float(moved.abs().max()) > 1e-3


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
    top_v, top_f = strip(0.0, 21)
    top = torch.as_tensor(top_v, dtype=torch.float64)
    normals = vertex_normals(top, torch.as_tensor(top_f))  # +z: the top's outside
    assert float(normals[:, 2].min()) > 0.99
    top_cloth = ClothMesh(top_v, top_f, dtype=torch.float64)
    bottom_v, bottom_f = strip(0.0, 4)
    bottom_cloth = ClothMesh(bottom_v * [0.4, 0.4, 1] + [0.3, 0.3, -0.01], bottom_f, dtype=torch.float64)
    base = bottom_cloth.rest_vertices[None]
    layering = outfit_layering(bottom_cloth.rest_vertices, top, top_cloth.boundary)
    assert bool(layering.covered.all())  # the small sheet lies 1 cm under the top, within its border
    for height, expect_penalty in ((-0.05, False), (0.02, True), (0.009, True)):
        bottom = base + torch.tensor([0, 0, height], dtype=torch.float64)
        depth = covered_depths(bottom, top[None], normals[None], layering)
        assert torch.allclose(depth, torch.full_like(depth, 0.01 - height))
        loss = float(layer_loss(bottom_cloth, bottom, top[None], normals[None], layering))
        m = bottom_cloth.material
        expected = m.collision_stiffness * len(bottom_v) * max(m.collision_margin - 0.01 + height, 0) ** 3
        assert loss == pytest.approx(expected, rel=1e-6) and (loss > 0) == expect_penalty
    # Canonical points past the top's border, or farther than COVER_RADIUS from it, are not covered.
    beyond = outfit_layering(bottom_cloth.rest_vertices + torch.tensor([5.0, 0, 0], dtype=torch.float64), top,
                             top_cloth.boundary)
    far = outfit_layering(bottom_cloth.rest_vertices - torch.tensor([0, 0, 2 * COVER_RADIUS], dtype=torch.float64),
                          top, top_cloth.boundary)
    assert not bool(beyond.covered.any()) and not bool(far.covered.any())


def test_layer_partners_come_from_the_canonical_outfit_not_the_pose():
    """A posed 'sleeve' that swings next to the bottom does not become its partner."""
    body_v, body_f = strip(0.0, 21)
    sleeve_v, sleeve_f = strip(0.0, 21)
    sleeve_v = sleeve_v * [0.2, 0.2, 1] + [3.0, 0.0, 0.0]  # canonically far away
    top_v = np.concatenate([body_v, sleeve_v])
    top_f = np.concatenate([body_f, sleeve_f + len(body_v)])
    top_cloth = ClothMesh(top_v, top_f, dtype=torch.float64)
    bottom_v, bottom_f = strip(0.0, 4)
    bottom_cloth = ClothMesh(bottom_v * [0.4, 0.4, 1] + [0.3, 0.3, -0.01], bottom_f, dtype=torch.float64)
    layering = outfit_layering(bottom_cloth.rest_vertices, top_cloth.rest_vertices, top_cloth.boundary)
    assert bool(layering.covered.all()) and int(layering.partner.max()) < len(body_v)
    posed = top_cloth.rest_vertices.clone()
    posed[len(body_v):] += torch.tensor([-2.6, 0.4, -0.015], dtype=torch.float64)  # now 5 mm under the bottom
    normals = vertex_normals(posed, torch.as_tensor(top_f))
    bottom = bottom_cloth.rest_vertices[None]
    nearest_outside, nearest = signed_distances(bottom, posed[None], normals[None])
    assert bool((nearest[0] >= len(body_v)).any()) and float(nearest_outside.max()) > 0  # posed pairing: "outside"
    assert float(layer_loss(bottom_cloth, bottom, posed[None], normals[None], layering)) == 0.0  # 1 cm under the top


def test_off_body_targets_blend_across_the_gap_between_two_legs():
    """Two 'legs' 20 cm apart carrying values 0 and 1: closest-point targets jump on the plane
    between them; diffused targets pass 0.5 there and change smoothly across the gap."""
    import trimesh

    left = trimesh.creation.box((0.1, 0.1, 0.6), trimesh.transformations.translation_matrix((-0.15, 0, 0)))
    right = trimesh.creation.box((0.1, 0.1, 0.6), trimesh.transformations.translation_matrix((0.15, 0, 0)))
    legs = trimesh.util.concatenate([left.subdivide().subdivide().subdivide(), right.subdivide().subdivide().subdivide()])
    vertices, faces = np.asarray(legs.vertices), np.asarray(legs.faces)
    value = (vertices[:, 0] > 0).astype(np.float64)
    x = np.linspace(-0.099, 0.099, 23)
    points = np.stack([x, np.zeros_like(x), np.zeros_like(x)], 1)
    distances = 0.1 - np.abs(x)
    sources, coefficients = diffused(vertices, faces, points, distances, BodyFieldsConfig(diffusion_neighbours=64))
    target = (coefficients * value[sources]).sum(1)
    assert np.allclose(coefficients.sum(1), 1.0, atol=1e-5)
    assert target[0] < 0.05 and target[-1] > 0.95  # 1 mm from a leg: that leg's value
    assert target[11] == pytest.approx(0.5, abs=0.05)  # the middle plane
    steps = np.diff(target)
    assert np.all(steps > -1e-6) and steps.max() < 0.25  # monotone, no jump across the gap (9 mm apart)


def test_physics_reference_settles_a_sheet_on_a_floor_at_the_collision_margin():
    """A sheet dropped 1 cm above a floor comes to rest, unstrained, where the collision penalty's
    force 3 k_c (eps - z)^2 carries each vertex's weight m g: z = eps - sqrt(m g / (3 k_c))."""
    from inrzoo.cloth.energies import strain_energy
    from inrzoo.zoo.drapenet.draping.reference import ReferenceSettings, solve_garment

    sheet_v, sheet_f = strip(0.01, 5)
    cloth = ClothMesh(sheet_v * [0.2, 0.2, 1], sheet_f, dtype=torch.float64)
    floor_v, _ = strip(0.0, 41)
    floor = torch.as_tensor(floor_v * [0.3, 0.3, 1] - [0.05, 0.05, 0], dtype=torch.float64)[None]
    up = torch.zeros_like(floor)
    up[..., 2] = 1.0
    settled = solve_garment(cloth, cloth.rest_vertices, floor, up, ReferenceSettings(steps=4000))
    m = cloth.material
    expected = m.collision_margin - torch.sqrt(cloth.masses * m.gravity / (3 * m.collision_stiffness))
    assert torch.allclose(settled[:, 2], expected, atol=2e-6)
    assert float(strain_energy(cloth, settled)) < 1e-12  # at rest shape (sliding along the floor costs nothing)
    with pytest.raises(ValueError, match="steps"):
        ReferenceSettings(steps=0)
