"""The garment collection job: meshes, index and records that inrzoo.collections reads back."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from inrzoo import collections, config, geometry
from inrzoo.garments import CATEGORIES, RANGES, GarmentSettings
from inrzoo.garments.dataset import GarmentDataConfig, generate_garments, read_params

COUNTS = {"tshirt": 2, "dress": 1, "skirt": 2, "trousers": 1}


@pytest.fixture(scope="module")
def collection(tmp_path_factory, body_path):
    out = tmp_path_factory.mktemp("garments")
    cfg = GarmentDataConfig(output=str(out), counts=COUNTS, body=str(body_path),
                            settings=GarmentSettings(spacing=0.025, body_samples=40_000), test_fraction=0.5)
    return out, cfg, generate_garments(cfg)


def test_the_folder_collection_lists_every_garment_with_type_split_and_parameters(collection):
    out, _, summary = collection
    refs = collections.get("folder", str(out), index="index.csv").list()
    assert sorted(r.label for r in refs) == sorted(t for t, n in COUNTS.items() for _ in range(n))
    assert summary["failed"] == [] and sum(summary["written"].values()) == len(refs)
    for ref in refs:
        assert ref.kind == "mesh" and ref.meta["category"] == CATEGORIES[ref.label]
        assert set(read_params(ref.meta)) == set(RANGES[ref.label])
        mesh = geometry.load(ref.uri)
        assert np.abs(mesh.vertices).max() < 1.0
    # Half of each type (rounded up) is held out.
    assert sorted(r.split for r in refs if r.label == "skirt") == ["test", "train"]
    assert [r.split for r in refs if r.label == "dress"] == ["test"]


def test_records_state_the_config_and_frame_and_a_rerun_is_identical(collection, tmp_path):
    out, cfg, summary = collection
    record = yaml.safe_load((out / "garments.yaml").read_text())
    assert record["config"]["counts"] == COUNTS and record["frame"]["scale"] > 0
    again = config.from_dict(GarmentDataConfig, record["config"])
    again.output = str(tmp_path / "again")
    generate_garments(again)
    for name in ("index.csv", "meshes/tshirt_0001.ply", "meshes/skirt_0000.ply"):
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes()


def test_bad_config_values_are_refused():
    with pytest.raises(ValueError, match="unknown type"):
        GarmentDataConfig(counts={"poncho": 3})
    with pytest.raises(ValueError, match="test_fraction"):
        GarmentDataConfig(test_fraction=1.0)
