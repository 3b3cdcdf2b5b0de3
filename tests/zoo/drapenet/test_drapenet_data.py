"""DrapeNet's samples: the mixture, clipped UDF and gradients of each garment, stored in Zarr."""

from __future__ import annotations

import numpy as np
import pytest

from inrzoo import geometry
from inrzoo.garments import GarmentSettings
from inrzoo.garments.dataset import GarmentDataConfig as CollectionConfig
from inrzoo.garments.dataset import generate_garments
from inrzoo.zoo.drapenet.data import (GarmentSamples, GarmentSamplesConfig, box_queries, garment_refs, prepare_samples,
                                      read_record)
from inrzoo.zoo.drapenet.source import GarmentOptions

DELTA = 0.1


@pytest.fixture(scope="module")
def collection(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("garments")
    generate_garments(CollectionConfig(output=str(out), counts={"tshirt": 2, "tank": 1, "skirt": 2}, body="stored",
                                       test_fraction=0.5, settings=GarmentSettings(spacing=0.03, body_samples=30_000)))
    return str(out)


@pytest.fixture(scope="module")
def samples(collection, tmp_path_factory) -> tuple[str, GarmentSamplesConfig]:
    cfg = GarmentSamplesConfig(collection=collection, category="top", queries_per_garment=4000, surface_points=500)
    return prepare_samples(cfg, str(tmp_path_factory.mktemp("s") / "top.zarr")), cfg


def test_only_the_category_is_prepared_with_its_record(samples):
    path, _ = samples
    record = read_record(path)
    assert sorted(record.labels) == ["tank", "tshirt", "tshirt"]
    assert "sleeve" in record.params[record.labels.index("tshirt")]
    assert set(record.splits) == {"train", "test"}


def test_rows_hold_the_drapenet_mixture_with_clipped_udf_and_unit_gradients(samples):
    path, cfg = samples
    row = GarmentSamples(path, [0], points_encoder=500, points_decoder=4000).root
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
    parallel = prepare_samples(GarmentSamplesConfig(**{**cfg.__dict__, "workers": 2}), str(tmp_path / "p.zarr"))
    import zarr

    one, two = zarr.open_group(path, mode="r"), zarr.open_group(parallel, mode="r")
    for name in ("queries", "distances", "gradients", "surface", "status"):
        np.testing.assert_array_equal(one[name][:], two[name][:])


def test_a_rerun_resumes_and_another_config_is_refused(samples):
    path, cfg = samples
    before = read_record(path)
    assert prepare_samples(cfg, path) == path
    again = read_record(path)
    assert again.ids == before.ids and (again.status == before.status).all()
    with pytest.raises(ValueError, match="another config"):
        prepare_samples(GarmentSamplesConfig(**{**cfg.__dict__, "eps": 0.01}), path)


def test_dataset_draws_depend_on_seed_epoch_and_rows(samples):
    path, _ = samples
    record = read_record(path)
    train = GarmentSamples(path, record.rows("train"), points_encoder=100, points_decoder=300, seed=1)
    assert len(train) + len(record.rows("test")) == 3 and record.rows("test")
    first = train[0]
    assert first["surface"].shape == (100, 3) and first["queries"].shape == (300, 3)
    assert first["distances"].shape == (300,) and first["gradients"].shape == (300, 3)
    np.testing.assert_array_equal(train[0]["queries"], first["queries"])
    train.epoch = 1
    assert not np.array_equal(train[0]["queries"], first["queries"])
    assert record.category == "top" and record.delta == DELTA and record.collection


def test_box_fraction_draws_that_share_from_the_stored_uniform_queries(samples):
    path, cfg = samples
    record = read_record(path)
    n_box = box_queries(record.config)
    assert n_box == 400  # 10 % of 4,000, stored last
    root = GarmentSamples(path, [0], 10, 10).root
    stored, distances = root["queries"][0], root["distances"][0]
    box = {tuple(q) for q in stored[-n_box:]}
    # The stored box queries are the uniform ones: mostly beyond the clip, where no shell reaches.
    assert (distances[-n_box:] == DELTA).mean() > 0.5 and distances[:-n_box].max() < 0.05

    def box_share(fraction):
        draw = GarmentSamples(path, [0], 10, 300, box_fraction=fraction)[0]["queries"].numpy()
        return sum(tuple(q) in box for q in draw) / len(draw)

    assert box_share(0.5) == 0.5 and box_share(1.0) == 1.0 and box_share(0.0) == 0.0
    assert 0.03 < box_share(None) < 0.2  # the stored mixture's share, drawn alike
    with pytest.raises(ValueError, match="box_fraction"):
        GarmentOptions(box_fraction=1.5)


def test_limit_takes_every_type_first(collection):
    cfg = GarmentSamplesConfig(collection=collection, category="top", limit=2)
    assert sorted(ref.label for ref in garment_refs(cfg)) == ["tank", "tshirt"]
