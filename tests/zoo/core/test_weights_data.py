"""The weight-dataset data source: seeded splits by source shape (augmented copies follow their
original), named splits, equal shards per worker, batches, spec and making the demo data."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inr2vec_helpers import weight_data, write_dataset
from inrzoo.zoo.core.data import DataSection, SplitSection, open_data
from inrzoo.zoo.core.weights import WeightBatch, WeightData, shard


def test_seeded_split_keeps_copies_with_their_shape_and_is_stratified(siren_families, tmp_path):
    arch, params, labels = siren_families(6)
    ds = write_dataset(str(tmp_path / "d.zarr"), arch, params, labels, copies=2)
    views = weight_data(ds.uri, test_fraction=0.25).views
    ids = {k: [str(i).split("#")[0] for i in ds.columns["id"][v.rows]] for k, v in views.items()}
    assert not set(ids["train"]) & set(ids["test"])
    assert sum(len(v) for v in views.values()) == 36 and len(views["test"]) == 2 * 3 * 2  # 2 shapes per class x 3 rows
    assert np.bincount(ds.columns["label"][views["test"].rows]).tolist() == [6, 6]
    assert np.array_equal(weight_data(ds.uri, test_fraction=0.25).views["test"].rows, views["test"].rows)
    assert not np.array_equal(weight_data(ds.uri, test_fraction=0.25, seed=5).views["test"].rows, views["test"].rows)
    originals = WeightData(DataSection(uri=ds.uri, split=SplitSection(test_fraction=0.25), options={"train_copies": False}))
    assert originals.views["train"].rows.tolist() == [r for r in views["train"].rows if "#aug" not in ds.columns["id"][r]]
    assert len(originals.views["train"]) == 8 and np.array_equal(originals.views["test"].rows, views["test"].rows)


def test_named_splits_equal_shards_and_batches(siren_families, tmp_path):
    arch, params, labels = siren_families(5)
    ds = write_dataset(str(tmp_path / "d.zarr"), arch, params, labels, splits=["train"] * 7 + ["test"] * 3)
    data = weight_data(ds.uri)
    views = data.views
    assert views["train"].rows.tolist() == list(range(7)) and views["test"].rows.tolist() == [7, 8, 9]
    assert data.split_sizes() == {"train": 7, "val": 0, "test": 3}
    assert [shard(views["train"], r, 2).rows.tolist() for r in range(2)] == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(ValueError, match="cannot feed 4 workers"):
        shard(views["train"], 0, 4)
    batches = list(data.batches("train", 2, rank=1, world=2))
    assert all(isinstance(b, WeightBatch) for b in batches) and torch.cat([b.rows for b in batches]).tolist() == [3, 4, 5]
    torch.testing.assert_close(batches[0].params["layers.0.weight"], params["layers.0.weight"][3:5])
    spec = data.spec()
    assert spec.arch == arch.spec.to_dict() and spec.label_names == ["a", "b"] and spec.field == "sdf"
    assert len(data.digest()) == 64


def test_data_options_are_typed_and_missing_data_is_named(siren_families, tmp_path):
    arch, params, labels = siren_families(2)
    ds = write_dataset(str(tmp_path / "d.zarr"), arch, params, labels)
    with pytest.raises(ValueError, match="data.options.colour"):
        WeightData(DataSection(uri=ds.uri, options={"colour": 1}))
    with pytest.raises(Exception, match="nothing.zarr"):
        WeightData(DataSection(uri=str(tmp_path / "nothing.zarr")))


@pytest.mark.slow
def test_data_make_converts_the_bundled_meshes_once(tmp_path):
    section = DataSection(uri=str(tmp_path / "demo.zarr"), make={
        "preset": "davies", "overrides": ["sampler.options={pool_size: 20000, n: 4000}", "fit.max_steps=3",
                                          "fit.escalation.ladder=[]", "eval.surface_points=200", "eval.chamfer=none",
                                          "output.chunk_rows=9"]})
    assert not WeightData.ready(section)
    data = open_data("weights", section)
    assert WeightData.ready(section) and data.split_sizes()["train"] == 7 and data.split_sizes()["test"] == 2
    assert data.spec().label_names == ["box", "organic", "round"]
    mtime = (tmp_path / "demo.zarr" / "zarr.json").stat().st_mtime
    open_data("weights", section)  # complete data is not made again
    assert (tmp_path / "demo.zarr" / "zarr.json").stat().st_mtime == mtime
