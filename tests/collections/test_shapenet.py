"""ShapeNetCore v1 and v2 layouts with taxonomy.json and the official all.csv split file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trimesh

from inrzoo.collections import CollectionError, get

AIRPLANE, CHAIR, TABLE = "02691156", "03001627", "04379243"
TAXONOMY = [
    {"synsetId": AIRPLANE, "name": "airplane,aeroplane,plane", "children": ["02690373"], "numInstances": 4045},
    {"synsetId": "02690373", "name": "airliner", "children": [], "numInstances": 1490},
    {"synsetId": CHAIR, "name": "chair", "children": [], "numInstances": 6778},
]
MODELS = {  # synset -> model ids (hex, like ShapeNet's) and the real mesh each one gets
    AIRPLANE: [("1a04e3eab45ca15dd86060f189eb133", "Basics_LetterBlock.stl"),
               ("1a6ad7a24bb89733f412783097373bdc", "Old_example014.stl")],
    CHAIR: [("1a6f615e8b1b5ae4dbbc9440457e303e", "nut_M8.stl")],
    TABLE: [("1a00aa6b75362cc5b324368d54a7416f", "Old_example003.stl")],
}
ALL_CSV = ("id,synsetId,subSynsetId,modelId,split\n"
           "1,2691156,2690373,1a04e3eab45ca15dd86060f189eb133,train\n"
           "2,2691156,2691156,1a6ad7a24bb89733f412783097373bdc,test\n"
           "3,3001627,3001627,1a6f615e8b1b5ae4dbbc9440457e303e,val\n")


def build(root: Path, place, version: str) -> Path:
    for synset, models in MODELS.items():
        for model, source in models:
            inner = "model.obj" if version == "v1" else "models/model_normalized.obj"
            place(root / synset / model / inner, source)
            if version == "v2":
                (root / synset / model / "models" / "model_normalized.json").write_text('{"numVertices": 1}')
    (root / "taxonomy.json").write_text(json.dumps(TAXONOMY))
    (root / "all.csv").write_text(ALL_CSV)
    return root


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_lists_both_layouts_with_names_and_splits(tmp_path: Path, place, version: str):
    root = build(tmp_path / f"ShapeNetCore.{version}", place, version)
    refs = get("shapenet", str(root)).list()
    assert [r.id for r in refs] == [
        f"shapenet/{AIRPLANE}/1a04e3eab45ca15dd86060f189eb133", f"shapenet/{AIRPLANE}/1a6ad7a24bb89733f412783097373bdc",
        f"shapenet/{CHAIR}/1a6f615e8b1b5ae4dbbc9440457e303e", f"shapenet/{TABLE}/1a00aa6b75362cc5b324368d54a7416f"]
    assert [r.label for r in refs] == ["airplane", "airplane", "chair", TABLE]  # table is not in this taxonomy
    assert [r.split for r in refs] == ["train", "test", "val", None]  # the table is not in all.csv
    assert refs[0].meta["sub_synset_id"] == "02690373" and refs[0].meta["version"] == version
    assert refs[0].meta["synset_name"] == "airplane,aeroplane,plane" and "ShapeNet" in refs[0].meta["license"]
    assert len(trimesh.load(refs[2].uri, force="mesh").faces) == 20  # the nut, converted to OBJ
    assert get("shapenet", str(root), version=version).list() == refs
    other = "v2" if version == "v1" else "v1"
    with pytest.raises(CollectionError, match="no ShapeNetCore shapes"):
        get("shapenet", str(root), version=other).list()


def test_select_synsets_by_name_or_id_and_split(tmp_path: Path, place):
    root = build(tmp_path / "sn", place, "v2")
    assert len(get("shapenet", str(root), labels="aeroplane").list()) == 2
    assert [r.label for r in get("shapenet", str(root), labels=[CHAIR, TABLE]).list()] == ["chair", TABLE]
    assert [r.split for r in get("shapenet", str(root), split=["train", "val"]).list()] == ["train", "val"]
    with pytest.raises(CollectionError, match="no shape has label \\['sofa'\\]"):
        get("shapenet", str(root), labels="sofa").list()


def test_without_side_files_labels_are_synset_ids(tmp_path: Path, place):
    root = build(tmp_path / "sn", place, "v1")
    (root / "taxonomy.json").unlink()
    (root / "all.csv").unlink()
    refs = get("shapenet", str(root)).list()
    assert [r.label for r in refs] == [AIRPLANE, AIRPLANE, CHAIR, TABLE] and {r.split for r in refs} == {None}
    with pytest.raises(CollectionError, match="split"):
        get("shapenet", str(root), split="train").list()


def test_side_files_given_as_uris(tmp_path: Path, place):
    root = build(tmp_path / "sn", place, "v1")
    elsewhere = tmp_path / "splits.csv"
    elsewhere.write_text(ALL_CSV.replace(",test\n", ",train\n"))
    refs = get("shapenet", str(root), split_csv=str(elsewhere), taxonomy=str(root / "taxonomy.json")).list()
    assert [r.split for r in refs] == ["train", "train", "val", None]
    with pytest.raises(CollectionError, match="missing.json: does not exist"):
        get("shapenet", str(root), taxonomy=str(tmp_path / "missing.json")).list()


def test_malformed_side_files_name_the_file(tmp_path: Path, place):
    root = build(tmp_path / "sn", place, "v2")
    (root / "taxonomy.json").write_text('{"synsetId": "02691156"')
    with pytest.raises(CollectionError, match=r"taxonomy\.json: malformed JSON"):
        get("shapenet", str(root)).list()
    (root / "taxonomy.json").write_text('{"02691156": "airplane"}')
    with pytest.raises(CollectionError, match=r"taxonomy\.json: malformed taxonomy"):
        get("shapenet", str(root)).list()
    (root / "taxonomy.json").write_text(json.dumps(TAXONOMY))
    (root / "all.csv").write_text("id,synsetId,modelId\n1,2691156,abc\n")
    with pytest.raises(CollectionError, match=r"all\.csv: malformed CSV \(missing column"):
        get("shapenet", str(root)).list()


def test_lists_a_memory_filesystem(tmp_path: Path, place, memory_copy):
    root = memory_copy(build(tmp_path / "sn", place, "v2"))
    refs = get("shapenet", root, split="train").list()
    assert len(refs) == 1 and refs[0].uri.startswith("memory:///") and refs[0].uri.endswith("model_normalized.obj")
