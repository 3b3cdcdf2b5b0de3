"""Augmented copies: rows of their own, reproducible from the shape seed, scaled and jittered."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from inrzoo.geometry import Mesh, PointCloud, VoxelGrid
from inrzoo.pipeline import load_convert_config, resolve
from inrzoo.pipeline.augment import AugmentConfig, augment_index, expand_listing, jitter_shape, scale_points, scale_shape
from inrzoo.pipeline.prepare import prepare_shape, row_shape


def box() -> Mesh:
    mesh = trimesh.creation.box(extents=(2.0, 2.0, 2.0))
    return Mesh(np.asarray(mesh.vertices), np.asarray(mesh.faces), source="box")


def test_listing_keeps_originals_and_adds_labelled_copies():
    refs = [{"id": "a", "uri": "a.stl", "label": "x", "split": "test", "kind": "mesh", "meta": {"k": 1}}]
    out = expand_listing(refs, AugmentConfig(copies=2))
    assert [r["id"] for r in out] == ["a", "a#aug1", "a#aug2"]
    assert all(r["label"] == "x" and r["split"] == "test" for r in out)  # copies never leak across splits
    assert out[2]["meta"] == {"k": 1, "augment": 2, "augment_of": "a"}
    assert expand_listing(refs, AugmentConfig()) == refs
    # Through Ray Data (Arrow structs) an original comes back with the copies' keys set to None.
    assert [augment_index(r) for r in out] == [0, 1, 2]
    assert augment_index({"id": "a", "meta": {"k": 1, "augment": None, "augment_of": None}}) == 0


def test_originals_read_back_from_ray_data_are_not_copies():
    # Ray Data (Arrow) hands an original back with the copies' meta keys set to None.
    assert augment_index({"id": "a", "meta": {"augment": None, "augment_of": None}}) == 0
    assert augment_index({"id": "a", "meta": None}) == 0
    assert augment_index({"id": "a#aug2", "meta": {"augment": 2, "augment_of": "a"}}) == 2


def test_scaling_is_anisotropic_within_range_and_reproducible():
    cfg = AugmentConfig(copies=1, scale=(0.5, 1.5))
    a, scaling = scale_shape(box(), cfg, np.random.default_rng(3))
    b, _ = scale_shape(box(), cfg, np.random.default_rng(3))
    np.testing.assert_array_equal(a.vertices, b.vertices)
    extents = a.vertices.max(axis=0) - a.vertices.min(axis=0)
    assert np.all((extents >= 1.0) & (extents <= 3.0)) and np.ptp(extents) > 1e-3
    # The recorded scaling maps any point of the source frame the way it moved the vertices.
    np.testing.assert_allclose(scale_points(box().vertices, scaling), a.vertices)


def test_jitter_moves_points_by_about_its_std_and_voxels_are_refused():
    cloud = PointCloud(np.random.default_rng(1).uniform(-1, 1, (20000, 3)), None, source="c")
    moved = jitter_shape(cloud, AugmentConfig(jitter=0.01), np.random.default_rng(0))
    assert abs((moved.points - cloud.points).std() - 0.01) < 1e-3
    voxels = VoxelGrid(np.ones((2, 2, 2), bool), np.zeros(3), 1.0, source="v.npy")
    with pytest.raises(ValueError, match="v.npy"):
        scale_shape(voxels, AugmentConfig(), np.random.default_rng(0))


def test_prepared_copy_differs_from_the_original_and_repeats_exactly(tmp_path):
    path = tmp_path / "box.stl"
    trimesh.creation.box(extents=(1.0, 2.0, 3.0)).export(path)
    conv = resolve(load_convert_config(None, ["sampler.options.n=2000", "sampler.options.pool_size=10000",
                                              "eval.surface_points=100", "augment.copies=1", "augment.jitter=0.002"]))
    original, copy = expand_listing([{"id": "box", "uri": str(path), "kind": "mesh", "meta": {}}], conv.config.augment)
    first = prepare_shape(copy, 1, conv)
    again = prepare_shape(copy, 1, conv)
    plain = prepare_shape(original, 0, conv)
    assert first.status == plain.status == "ok"
    np.testing.assert_array_equal(first.samples.values, again.samples.values)
    assert not np.allclose(first.samples.values, plain.samples.values[: len(first.samples.values)])
    # row_shape gives the very geometry the copy was fitted to (its frame and its scaling).
    shape, transform, meta, _ = row_shape(copy, path.read_bytes(), conv)
    assert transform.to_dict() == first.transform and meta == first.meta and "augment_scale" in meta
    np.testing.assert_allclose(np.linalg.norm(shape.vertices, axis=1).max(), 1.0, atol=0.01)  # unit sphere, jittered
