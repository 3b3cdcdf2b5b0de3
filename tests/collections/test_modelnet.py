"""ModelNet40 / ModelNet10 (.off) and Manifold40 (.obj): <class>/<train|test>/<class>_NNNN."""

from __future__ import annotations

from pathlib import Path

import pytest
import trimesh

from inrzoo.collections import CollectionError, get

FILES = {  # relative path (without extension) -> real mesh
    "airplane/train/airplane_0001": "Basics_LetterBlock.stl",
    "airplane/train/airplane_0002": "Old_example014.stl",
    "airplane/test/airplane_0627": "nut_M8.stl",
    "bathtub/train/bathtub_0001": "Old_example003.stl",
    "bathtub/test/bathtub_0107": "Old_example011.stl",
}


def build(root: Path, place, extension: str) -> Path:
    for rel, source in FILES.items():
        place(root / f"{rel}.{extension}", source)
    (root / "README.txt").write_text("ModelNet40")
    (root / "airplane" / "train" / ".DS_Store").write_bytes(b"\0")
    return root


@pytest.mark.parametrize("name,extension", [("modelnet40", "off"), ("modelnet10", "off"), ("manifold40", "obj")])
def test_lists_classes_and_splits(tmp_path: Path, place, name: str, extension: str):
    root = build(tmp_path / name, place, extension)
    refs = get(name, str(root)).list()
    assert [r.id for r in refs] == [f"{name}/airplane/airplane_0001", f"{name}/airplane/airplane_0002",
                                    f"{name}/airplane/airplane_0627", f"{name}/bathtub/bathtub_0001",
                                    f"{name}/bathtub/bathtub_0107"]
    assert [r.label for r in refs] == ["airplane"] * 3 + ["bathtub"] * 2
    assert [r.split for r in refs] == ["train", "train", "test", "train", "test"]
    assert all(r.kind == "mesh" and r.uri.endswith(f".{extension}") and r.meta["license"] for r in refs)
    assert len(trimesh.load(refs[2].uri, force="mesh").faces) == 20


def test_selection_by_label_split_and_limit(tmp_path: Path, place):
    root = str(build(tmp_path / "ModelNet40", place, "off"))
    assert [r.id for r in get("modelnet40", root, labels="bathtub", split="test").list()] == ["modelnet40/bathtub/bathtub_0107"]
    assert len(get("modelnet40", root, limit=2).list()) == 2
    with pytest.raises(CollectionError, match="no shape has split \\['val'\\]; splits present: \\['test', 'train'\\]"):
        get("modelnet40", root, split="val").list()


def test_wrong_extension_is_an_empty_listing(tmp_path: Path, place):
    root = build(tmp_path / "Manifold40", place, "obj")
    with pytest.raises(CollectionError, match=r"no ModelNet40 shapes found \(expected <class>/train\|test/<name>\.off\)"):
        get("modelnet40", str(root)).list()


def test_lists_a_memory_filesystem(tmp_path: Path, place, memory_copy):
    root = memory_copy(build(tmp_path / "m", place, "off"))
    refs = get("modelnet40", root, split="test").list()
    assert [r.label for r in refs] == ["airplane", "bathtub"] and all(r.uri.startswith("memory:///") for r in refs)
