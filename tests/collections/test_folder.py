"""Any folder of meshes, point clouds or voxels: globs, kinds, labels from folders or an index."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import trimesh

from inrzoo.collections import DEMO_ROOT, CollectionError, demo, get
from inrzoo.collections.folder import glob_regex


@pytest.fixture
def tree(tmp_path: Path, place, real_mesh) -> Path:
    root = tmp_path / "bucket"
    place(root / "led" / "train" / "LED_Rectangular_W3.9mm_H1.8mm.ply", "LED_Rectangular_W3.9mm_H1.8mm.ply")
    place(root / "led" / "test" / "LED_Rectangular_W3.0mm_H2.0mm.ply", "LED_Rectangular_W3.0mm_H2.0mm.ply")
    place(root / "relay" / "train" / "Relay_SPDT_Omron_G6E.ply", "Relay_SPDT_Omron_G6E.ply")
    place(root / "relay" / "val" / "Relay_DPDT_Omron_G5V-2.obj", "Relay_DPDT_Omron_G5V-2.ply")
    place(root / "bunny.ply", "bunny.ply")
    bunny = real_mesh("bunny.ply")
    (root / "scans").mkdir()
    trimesh.PointCloud(bunny.vertices).export(root / "scans" / "bunny_scan.ply")
    np.save(root / "scans" / "bunny_points.npy", bunny.vertices.astype(np.float32))
    (root / "notes.md").write_text("not a shape")
    return root


def summary(refs):
    return [(r.id, r.label, r.split, r.kind) for r in refs]


def test_labels_and_splits_from_folders_kinds_from_extensions(tree: Path):
    refs = get("folder", str(tree)).list()
    assert summary(refs) == [
        ("folder/bunny.ply", None, None, "mesh"),
        ("folder/led/test/LED_Rectangular_W3.0mm_H2.0mm.ply", "led", "test", "mesh"),
        ("folder/led/train/LED_Rectangular_W3.9mm_H1.8mm.ply", "led", "train", "mesh"),
        ("folder/relay/train/Relay_SPDT_Omron_G6E.ply", "relay", "train", "mesh"),
        ("folder/relay/val/Relay_DPDT_Omron_G5V-2.obj", "relay", "val", "mesh"),
        ("folder/scans/bunny_points.npy", "scans", None, "pointcloud"),
        ("folder/scans/bunny_scan.ply", "scans", None, "pointcloud"),  # a PLY without faces
    ]
    assert refs[1].meta == {"file": "led/test/LED_Rectangular_W3.0mm_H2.0mm.ply", "format": "ply", "license": None}
    assert refs[1].uri == str(tree / "led/test/LED_Rectangular_W3.0mm_H2.0mm.ply")
    assert get("folder", str(tree)).list() == refs


def test_options_patterns_kinds_and_overrides(tree: Path):
    def ids(**options):
        return [r.id.removeprefix("shapes/") for r in get("folder", str(tree), prefix="shapes", **options).list()]

    assert ids(patterns="**/*.obj") == ["relay/val/Relay_DPDT_Omron_G5V-2.obj"]
    assert ids(patterns=["*.ply"]) == ["bunny.ply"]  # '*' stays in the root folder
    assert ids(patterns="relay/**") == ["relay/train/Relay_SPDT_Omron_G6E.ply", "relay/val/Relay_DPDT_Omron_G5V-2.obj"]
    assert ids(kinds="pointcloud") == ["scans/bunny_points.npy", "scans/bunny_scan.ply"]
    assert ids(labels="relay", split="train") == ["relay/train/Relay_SPDT_Omron_G6E.ply"]
    npy = get("folder", str(tree), patterns="**/*.npy", npy="voxels").list()
    assert [r.kind for r in npy] == ["voxels"]
    forced = get("folder", str(tree), ply="pointcloud", kinds="pointcloud").list()
    assert len(forced) == 6 and {r.kind for r in get("folder", str(tree), kind="voxels").list()} == {"voxels"}
    assert {r.label for r in get("folder", str(tree), label_from="none").list()} == {None}
    assert {r.meta["license"] for r in get("folder", str(tree), license="CC0-1.0").list()} == {"CC0-1.0"}


def test_index_csv_defines_labels_splits_and_meta(tree: Path):
    (tree / "index.csv").write_text(
        "file,label,split,license,faces\n"
        "bunny.ply,animal,train,public domain,3674\n"
        "./relay/val/Relay_DPDT_Omron_G5V-2.obj,relay,test,CC-BY-SA-4.0,220\n"
        "scans/bunny_scan.ply,,,,\n"
    )
    refs = get("folder", str(tree), index="index.csv").list()
    assert summary(refs) == [("folder/bunny.ply", "animal", "train", "mesh"),
                             ("folder/relay/val/Relay_DPDT_Omron_G5V-2.obj", "relay", "test", "mesh"),
                             ("folder/scans/bunny_scan.ply", None, None, "pointcloud")]
    assert refs[0].meta == {"file": "bunny.ply", "format": "ply", "license": "public domain", "faces": "3674"}


def test_index_json_forms_and_label_column(tree: Path, tmp_path: Path):
    kicad_like = [{"file": "relay/train/Relay_SPDT_Omron_G6E.ply", "class": "Relay_THT", "faces": 156, "watertight": False},
                  {"file": "led/train/LED_Rectangular_W3.9mm_H1.8mm.ply", "class": "LED_THT", "faces": 44,
                   "watertight": True, "split": "test"}]
    (tree / "index.json").write_text(json.dumps(kicad_like))
    refs = get("folder", str(tree), index="index.json", label_column="class").list()
    assert [(r.label, r.split, r.meta["watertight"]) for r in refs] == [("LED_THT", "test", True),
                                                                        ("Relay_THT", None, False)]
    mapping = tmp_path / "labels.json"  # outside the root, given as a full URI
    mapping.write_text(json.dumps({"bunny.ply": "animal", "scans/bunny_points.npy": {"label": "scan", "kind": "pointcloud"}}))
    refs = get("folder", str(tree), index=f"file://{mapping}").list()
    assert summary(refs) == [("folder/bunny.ply", "animal", None, "mesh"),
                             ("folder/scans/bunny_points.npy", "scan", None, "pointcloud")]


def test_bad_inputs_name_the_file(tree: Path, tmp_path: Path):
    with pytest.raises(CollectionError, match="index.csv: index file does not exist"):
        get("folder", str(tree), index="index.csv").list()
    (tree / "index.csv").write_text("file,label\nmissing.stl,x\nbunny.ply,y\n")  # one failed row, not a failed listing
    refs = get("folder", str(tree), index="index.csv").list()
    assert [r.id for r in refs] == ["folder/bunny.ply", "folder/missing.stl"]
    assert "missing.stl: listed in" in refs[1].meta["listing_error"] and "listing_error" not in refs[0].meta
    (tree / "index.csv").write_text("file,label\nbunny.ply,x\nbunny.ply,y\n")
    with pytest.raises(CollectionError, match="index.csv: malformed index \\(bunny.ply is listed twice\\)"):
        get("folder", str(tree), index="index.csv").list()
    (tree / "index.csv").write_text("name,label\nbunny.ply,x\n")
    with pytest.raises(CollectionError, match="index.csv: malformed index \\(an entry has no 'file'"):
        get("folder", str(tree), index="index.csv").list()
    (tree / "index.json").write_text('["bunny.ply"]')
    with pytest.raises(CollectionError, match="index.json: malformed index"):
        get("folder", str(tree), index="index.json").list()
    (tree / "index.json").write_text('{"bunny.ply": ')
    with pytest.raises(CollectionError, match="index.json: malformed JSON"):
        get("folder", str(tree), index="index.json").list()
    (tree / "fake.ply").write_text("solid nothing\n")
    fake = [r for r in get("folder", str(tree)).list() if r.id.endswith("fake.ply")]
    assert "fake.ply: not a PLY file" in fake[0].meta["listing_error"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(CollectionError, match="empty: no folder shapes found"):
        get("folder", str(tmp_path / "empty")).list()
    with pytest.raises(CollectionError, match="collection root is a file"):
        get("folder", str(tree / "bunny.ply")).list()


def test_lists_a_memory_filesystem(tree: Path, memory_copy):
    root = memory_copy(tree)
    refs = get("folder", root, split="train").list()
    assert [r.label for r in refs] == ["led", "relay"] and all(r.uri.startswith("memory:///") for r in refs)
    assert [r.kind for r in get("folder", root, patterns="scans/*.ply").list()] == ["pointcloud"]


def test_glob_patterns():
    assert glob_regex("**/*.stl").match("a/b/c.stl") and glob_regex("**/*.stl").match("c.stl")
    assert not glob_regex("*.stl").match("a/c.stl") and glob_regex("a/?.stl").match("a/c.stl")
    assert not glob_regex("a/?.stl").match("a/cc.stl") and glob_regex("a/**").match("a/b/c.obj")
    assert not glob_regex("x+y.stl").match("xxy.stl")


def test_demo_collection_is_small_real_and_labelled():
    refs = demo().list()
    assert len(refs) == 9 and {r.label for r in refs} == {"box", "round", "organic"}
    assert [r.id for r in refs if r.split == "test"] == ["demo/Old_example001.stl", "demo/Old_example004.stl"]
    assert all(r.meta["license"] in ("CC0-1.0", "public domain") and r.meta["source"] for r in refs)
    assert sum(p.stat().st_size for p in DEMO_ROOT.iterdir()) < 1.5e6
    for ref in refs:
        mesh = trimesh.load(ref.uri, force="mesh")
        assert ref.kind == "mesh" and 50 <= len(mesh.faces) <= 5000 and mesh.is_watertight
    assert (DEMO_ROOT / "LICENSES.md").read_text().count("CC0") >= 1


def test_the_demo_loads_with_the_geometry_loader():
    geometry = pytest.importorskip("inrzoo.geometry")
    for ref in demo().list():
        assert geometry.load(ref.uri, kind=ref.kind).kind == ref.kind
