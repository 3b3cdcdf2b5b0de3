"""The classifier zoo job: rows per instance with seed, epochs and test accuracy; one group per
family; resume; refusal of a different zoo at the same place."""

import numpy as np
import pytest
import torch

from inrzoo.classifiers import FamilySection, accuracy, build_classifier_zoo, load_digits_splits, load_zoo_config
from inrzoo.classifiers.zoo import epochs_schedule
from inrzoo.store import open_weights


def _tiny(uri, executor="local"):
    cfg = load_zoo_config(None, [f"output.uri={uri}", f"runtime.executor={executor}", "output.chunk_rows=4"])
    cfg.families = [FamilySection("lenet", instances=5, min_epochs=1, max_epochs=3),
                    FamilySection("resnet8", batch_norm=True, instances=5, min_epochs=1, max_epochs=2)]
    return cfg


def test_epochs_spread_geometrically_from_min_to_max():
    assert epochs_schedule(FamilySection(instances=5, min_epochs=1, max_epochs=16)) == [1, 2, 4, 8, 16]
    with pytest.raises(ValueError, match="min_epochs"):
        epochs_schedule(FamilySection(instances=3, min_epochs=5, max_epochs=2))


def test_digits_splits_are_fixed_stratified_and_standardized():
    a, b = load_digits_splits(0), load_digits_splits(0)
    assert torch.equal(a.test.images, b.test.images)
    assert len(a.train) + len(a.val) + len(a.test) == 1797
    assert set(a.test.labels.tolist()) == set(range(10))
    assert abs(float(a.train.images.mean())) < 1e-5 and abs(float(a.train.images.std()) - 1) < 1e-3


def test_zoo_rows_record_seed_epochs_and_accuracy_and_resume(tmp_path, caplog):
    uri = str(tmp_path / "zoo.zarr")
    cfg = _tiny(uri)
    report = build_classifier_zoo(cfg)
    assert report["trained"] == 10
    ds = open_weights(uri)
    assert len(ds) == 10 and [a["label"] for a in ds.attrs["archs"]] == ["lenet-6-16", "resnet8-8-8-16-32"]
    assert ds.attrs["config"]["families"][1]["batch_norm"] is True
    data = load_digits_splits(cfg.data_seed)
    seeds = set()
    for i in range(len(ds)):
        rec = ds[i]
        seeds.add(rec.meta["seed"])
        assert rec.meta["epochs"] >= 1 and rec.metrics["steps"] == rec.meta["epochs"] * 17
        assert rec.arch.norm == "none"
        assert accuracy(ds.module(i), data.test) == pytest.approx(rec.metrics["test_accuracy"])
    assert len(seeds) == 10
    assert sorted(set(ds.columns["split"].tolist())) == ["test", "train", "val"]
    assert np.all(ds.columns["arch"][:5] == 0) and np.all(ds.columns["arch"][5:] == 1)
    # A second run finds nothing pending.
    assert build_classifier_zoo(cfg)["trained"] == 0
    other = _tiny(uri)
    other.families[0].instances = 6
    with pytest.raises(ValueError, match="different zoo"):
        build_classifier_zoo(other)


def test_zoo_trains_units_as_ray_tasks(local_ray, tmp_path):
    uri = str(tmp_path / "zoo.zarr")
    cfg = _tiny(uri, executor="ray")
    cfg.families = cfg.families[:1]
    assert build_classifier_zoo(cfg)["trained"] == 5
    assert np.all(open_weights(uri, status=None).columns["status"] == 1)
