"""ShapeRef, the registry and the checks every adapter shares."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inrzoo.collections import REGISTRY, CollectionError, ShapeRef, get


def test_registry_names_every_adapter():
    assert sorted(REGISTRY) == ["folder", "kicad", "manifold40", "modelnet10", "modelnet40", "shapenet", "shapenetpart",
                                "thingi10k"]
    assert all(cls.license_note for cls in REGISTRY.values())


def test_shape_ref_round_trips_through_json():
    ref = ShapeRef("demo/a.stl", "s3://bucket/a.stl", "box", "train", "mesh", {"license": "CC0-1.0", "faces": 12})
    assert ShapeRef.from_dict(json.loads(json.dumps(ref.to_dict()))) == ref
    with pytest.raises(ValueError, match="s3://bucket/a.stl: kind 'surface'"):
        ShapeRef("x", "s3://bucket/a.stl", None, None, "surface")


def test_options_are_checked_against_the_adapter_fields(tmp_path: Path):
    with pytest.raises(CollectionError, match="unknown collection 'shapenet55'"):
        get("shapenet55", str(tmp_path))
    with pytest.raises(CollectionError, match="unknown key.*'closd'"):
        get("thingi10k", str(tmp_path), closd=True)
    with pytest.raises(CollectionError, match="max_facets"):
        get("thingi10k", str(tmp_path), max_facets="many")
    with pytest.raises(CollectionError, match="version"):
        get("shapenet", str(tmp_path), version="v3")
    built = get("thingi10k", str(tmp_path), num_facets=[10, None], license="CC0")
    assert built.num_facets == (10, None) and built.license == "CC0"


def test_duplicate_ids_are_an_error(tmp_path: Path, place):
    model = tmp_path / "02691156" / "1a04e3eab45ca15dd86060f189eb133"
    place(model / "model.obj", "nut_M8.stl")
    place(model / "models" / "model_normalized.obj", "nut_M8.stl")
    with pytest.raises(CollectionError, match="shape id 'shapenet/02691156/1a04e3eab45ca15dd86060f189eb133' is given by both"):
        get("shapenet", str(tmp_path)).list()
    assert len(get("shapenet", str(tmp_path), version="v2").list()) == 1


def test_relative_and_unnormalized_local_roots(tmp_path: Path, place, monkeypatch):
    place(tmp_path / "shapes" / "a" / "nut.stl", "nut_M8.stl")
    monkeypatch.chdir(tmp_path)
    refs = get("folder", "shapes/../shapes").list()
    assert [(r.id, r.uri) for r in refs] == [("folder/a/nut.stl", str(tmp_path / "shapes" / "a" / "nut.stl"))]
    assert get("folder", f"file://{tmp_path}/shapes").list() == refs
