"""Marching cubes of one stored INR, returned in the shape's original frame."""

from __future__ import annotations

import uuid

import numpy as np

import inrzoo
from inrzoo.inr import ArchSpec, build
from inrzoo.store import RowResult
from store.weights_helpers import listing


def test_marching_cubes_in_the_original_frame():
    # |x| + |y| + |z| - 0.5 written exactly as a ReLU MLP (|t| = relu(t) + relu(-t)): its zero
    # set is an octahedron, and marching cubes of a piecewise-linear field is exact on it.
    spec = ArchSpec.default("relu_mlp", hidden=[6], output="none")
    eye = np.eye(3, dtype=np.float32)
    params = {"layers.0.weight": np.concatenate([eye, -eye]), "layers.0.bias": np.zeros(6, np.float32),
              "output.weight": np.ones((1, 6), np.float32), "output.bias": np.array([-0.5], np.float32)}
    assert list(params) == list(build(spec).param_shapes())
    uri = f"memory://store-mesh/{uuid.uuid4().hex}.zarr"
    writer = inrzoo.create_weights(uri, listing(1), [spec])
    writer.write(range(0, 1), [RowResult(row=0, params=params, transform={"center": [10.0, 0.0, 0.0], "scale": 4.0})])
    mesh = inrzoo.open_weights(uri).extract_mesh(0, resolution=33)
    normalized = (mesh.vertices - [10.0, 0.0, 0.0]) / 4.0
    assert len(mesh.faces) > 100
    np.testing.assert_allclose(np.abs(normalized).sum(axis=1), 0.5, atol=1e-5)
    np.testing.assert_allclose(mesh.vertices.max(axis=0), [12.0, 2.0, 2.0], atol=1e-4)
