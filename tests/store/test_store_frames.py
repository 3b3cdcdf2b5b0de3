"""One mapping between a row's source frame and its INR frame, used by every reader path.

An augmented copy was scaled per axis before normalization; its query points in the source
frame must pass through both steps (inrzoo.store.frames), as its part labels always did."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
import torch

import inrzoo
from inrzoo.inr import ArchSpec, build
from inrzoo.store import RowResult
from inrzoo.store.frames import to_inr_frame, to_source_frame
from store.weights_helpers import listing

SMALL = ArchSpec.default("relu_mlp", hidden=[16, 16])
SCALING = {"center": [0.5, -0.25, 0.0], "factors": [1.2, 0.8, 1.0]}
NORMALIZATION = {"center": [1.0, 0.0, 0.5], "scale": 2.0}


@pytest.fixture
def augmented():
    """Row 0 is an original, row 1 an augmented copy of it (scaled, then normalized)."""
    uri = f"memory://store-frames/{uuid.uuid4().hex}.zarr"
    items = listing(2)
    items[1]["meta"] = {**items[1]["meta"], "augment": 1, "augment_of": items[0]["id"]}
    writer = inrzoo.create_weights(uri, items, [SMALL], chunk_rows=2)
    results = [RowResult(row=r, params=build(SMALL).init_params(r), transform=NORMALIZATION,
                         meta={"augment_scale": SCALING} if r == 1 else None) for r in range(2)]
    writer.write(range(2), results)
    return inrzoo.open_weights(uri)


def test_the_two_frames_invert_each_other():
    points = np.random.default_rng(0).uniform(-3, 3, (50, 3))
    meta = {"augment_scale": SCALING}
    inr = to_inr_frame(points, NORMALIZATION, meta)
    center = np.array(SCALING["center"])
    scaled = (points - center) * SCALING["factors"] + center
    np.testing.assert_allclose(inr, (scaled - NORMALIZATION["center"]) / NORMALIZATION["scale"])
    np.testing.assert_allclose(to_source_frame(inr, NORMALIZATION, meta), points, atol=1e-12)
    np.testing.assert_allclose(to_inr_frame(points, None, None), points)


def test_evaluate_in_the_original_frame_applies_the_augmentation(augmented):
    source_points = torch.rand(64, 3) * 2 - 1
    inr_points = torch.as_tensor(to_inr_frame(source_points.numpy(), NORMALIZATION, {"augment_scale": SCALING}),
                                 dtype=torch.float32)
    expected = augmented.evaluate([1], inr_points)[0]
    got = augmented.evaluate([1], source_points, frame="original")[0]
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    # The original row has no augmentation: only its normalization applies.
    plain = torch.as_tensor(to_inr_frame(source_points.numpy(), NORMALIZATION), dtype=torch.float32)
    torch.testing.assert_close(augmented.evaluate([0], source_points, frame="original")[0],
                               augmented.evaluate([0], plain)[0], atol=1e-5, rtol=1e-5)


def test_select_fit_config_and_digest(augmented):
    view = augmented.select([1, 0])
    assert [r.id for r in view] == ["shape1", "shape0"] and len(augmented) == 2
    with pytest.raises(IndexError, match="rows must lie in"):
        augmented.select([2])
    assert augmented.fit_config() == {}  # written without a conversion config
    assert len(augmented.digest()) == 64 and augmented.digest() == view.digest()
