"""DrapeNet's samples: the mixture, clipped UDF and gradients of each garment, stored in Zarr."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inrzoo import geometry
from inrzoo.garments import GarmentSettings
from inrzoo.garments.dataset import GarmentDataConfig as CollectionConfig
from inrzoo.garments.dataset import generate_garments
from inrzoo.zoo.drapenet.config import GarmentDataConfig
from inrzoo.zoo.drapenet.data import GarmentSamples, garment_refs, prepare_samples, read_record

BODY = Path(__file__).resolve().parents[2] / "data" / "bodies" / "anny_average_body.npz"
DELTA = 0.1


@pytest.fixture(scope="module")
def collection(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("garments")
    generate_garments(CollectionConfig(output=str(out), counts={"tshirt": 2, "tank": 1, "skirt": 2}, body=str(BODY),
                                       test_fraction=0.5, settings=GarmentSettings(spacing=0.03, body_samples=30_000)))
    return str(out)


@pytest.fixture(scope="module")
def samples(collection, tmp_path_factory) -> tuple[str, GarmentDataConfig]:
    cfg = GarmentDataConfig(collection=collection, category="top", queries_per_garment=4000, surface_points=500,
                            samples=str(tmp_path_factory.mktemp("s") / "top.zarr"))
    return prepare_samples(cfg, DELTA), cfg


def test_only_the_category_is_prepared_with_its_record(samples):
    path, _ = samples
    record = read_record(path)
    assert sorted(record.labels) == ["tank", "tshirt", "tshirt"]
    assert "sleeve" in record.params[record.labels.index("tshirt")]
    assert set(record.splits) == {"train", "test"}


def test_rows_hold_the_drapenet_mixture_with_clipped_udf_and_unit_gradients(samples):
    path, cfg = samples
    dataset = GarmentSamples(path, None, points_encoder=500, points_decoder=4000)
    row = dataset.root
    queries, distances, gradients = row["queries"][0], row["distances"][0], row["gradients"][0]
    assert (distances == 0).mean() == pytest.approx(0.3, abs=0.01)  # the surface share
    assert distances.max() <= DELTA and np.abs(queries).max() <= 1.0
    mesh = geometry.load(read_record(path).uris[0])
    exact = geometry.unsigned_distance(mesh, queries)
    np.testing.assert_allclose(distances, np.minimum(exact, DELTA), atol=1e-6)
    off = distances > 0
    np.testing.assert_allclose(np.linalg.norm(gradients[off], axis=1), 1.0, atol=1e-4)
    assert not gradients[~off].any()
    # Moving against the gradient by the distance lands on the surface.
    near = off & (distances < DELTA)
    projected = queries[near] - distances[near, None] * gradients[near]
    assert geometry.unsigned_distance(mesh, projected).max() < 1e-4
    assert geometry.unsigned_distance(mesh, row["surface"][0]).max() < 1e-5


def test_worker_processes_write_the_same_samples(samples, tmp_path):
    path, cfg = samples
    parallel = prepare_samples(GarmentDataConfig(**{**cfg.__dict__, "workers": 2, "samples": str(tmp_path / "p.zarr")}),
                               DELTA)
    import zarr

    one, two = zarr.open_group(path, mode="r"), zarr.open_group(parallel, mode="r")
    for name in ("queries", "distances", "gradients", "surface", "status"):
        np.testing.assert_array_equal(one[name][:], two[name][:])


def test_a_rerun_resumes_and_another_config_is_refused(samples):
    path, cfg = samples
    before = read_record(path)
    assert prepare_samples(cfg, DELTA) == path and read_record(path) == before
    with pytest.raises(ValueError, match="another config"):
        prepare_samples(GarmentDataConfig(**{**cfg.__dict__, "eps": 0.01}), DELTA)


def test_dataset_draws_depend_on_seed_epoch_and_split(samples):
    path, _ = samples
    train = GarmentSamples(path, "train", points_encoder=100, points_decoder=300, seed=1)
    test = GarmentSamples(path, "test", points_encoder=100, points_decoder=300, seed=1)
    assert len(train) + len(test) == 3 and len(test) >= 1
    first = train[0]
    assert first["surface"].shape == (100, 3) and first["queries"].shape == (300, 3)
    assert first["distances"].shape == (300,) and first["gradients"].shape == (300, 3)
    np.testing.assert_array_equal(train[0]["queries"], first["queries"])
    train.epoch = 1
    assert not np.array_equal(train[0]["queries"], first["queries"])
    with pytest.raises(ValueError, match="no written garment"):
        GarmentSamples(path, "val", 10, 10)


def test_limit_takes_every_type_first(collection):
    cfg = GarmentDataConfig(collection=collection, category="top", limit=2)
    assert sorted(ref.label for ref in garment_refs(cfg)) == ["tank", "tshirt"]
