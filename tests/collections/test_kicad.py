"""KiCad 3D packages: <Library>.3dshapes/<part>.wrl, label = library, splits from a split file."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from inrzoo import geometry
from inrzoo.collections import CollectionError, get

KICAD = Path(__file__).resolve().parents[1] / "data" / "kicad"
RELAY = "Relay_THT.3dshapes/Relay_SPDT_Omron_G6E.wrl"
LED = "LED_THT.3dshapes/LED_Rectangular_W3.0mm_H2.0mm.wrl"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The real parts of tests/data/kicad plus what the package ships beside them."""
    root = tmp_path / "3dmodels"
    shutil.copytree(KICAD, root)
    (root / "Relay_THT.3dshapes" / "Relay_SPDT_Omron_G6E.step").write_text("ISO-10303-21;")  # not read
    (root / "README.md").write_text("KiCad 3D models")
    (root / "Loose").mkdir()
    shutil.copyfile(KICAD / LED, root / "Loose" / "stray.wrl")  # not in a .3dshapes library
    return root


def test_lists_parts_labeled_by_library(tree: Path):
    refs = get("kicad", str(tree)).list()
    assert [r.label for r in refs] == ["Heatsink", "LED_THT", "LED_THT", "Relay_THT", "Relay_THT", "Resistor_THT",
                                       "Resistor_THT"]
    assert refs[3].id == "kicad/Relay_THT/Relay_DPDT_Omron_G5V-2"
    assert all(r.kind == "mesh" and r.uri.endswith(".wrl") and r.split is None for r in refs)
    assert refs[3].meta["library"] == "Relay_THT" and "KiCad libraries exception" in refs[3].meta["license"]
    assert len(geometry.load(refs[3].uri).faces) > 100


def test_selects_libraries(tree: Path):
    refs = get("kicad", str(tree), labels=["LED_THT", "Heatsink"]).list()
    assert [r.label for r in refs] == ["Heatsink", "LED_THT", "LED_THT"]
    with pytest.raises(CollectionError, match="no shape has label \\['Capacitor_THT'\\]"):
        get("kicad", str(tree), labels="Capacitor_THT").list()


def _split_file(path: Path, parts: list[dict]) -> str:
    path.write_text(json.dumps({"parts": parts}))
    return str(path)


def test_split_file_fixes_parts_splits_and_checksums(tree: Path, tmp_path: Path):
    sha = hashlib.sha256((tree / RELAY).read_bytes()).hexdigest()
    split = _split_file(tmp_path / "split.json", [{"file": RELAY, "split": "test", "sha256": sha},
                                                  {"file": LED, "split": "train"}])
    refs = get("kicad", str(tree), split_file=split).list()
    assert [(r.id, r.split) for r in refs] == [("kicad/LED_THT/LED_Rectangular_W3.0mm_H2.0mm", "train"),
                                               ("kicad/Relay_THT/Relay_SPDT_Omron_G6E", "test")]
    assert refs[1].meta["sha256"] == sha and "sha256" not in refs[0].meta
    assert [r.id for r in get("kicad", str(tree), split_file=split, split="test").list()] == [refs[1].id]
    (tree / "parts.json").write_text(json.dumps({"parts": [{"file": LED, "split": "val"}]}))
    assert [r.split for r in get("kicad", str(tree), split_file="parts.json").list()] == ["val"]


@pytest.mark.parametrize("parts,reason", [
    ([{"file": "Relay_THT.3dshapes/Gone.wrl", "split": "train"}], "1 listed part\\(s\\) are not under"),
    ([{"file": RELAY, "split": "holdout"}], "split 'holdout', not one of"),
    ([{"file": RELAY, "split": "train"}, {"file": RELAY, "split": "test"}], "listed twice"),
    ([{"file": "Relay_SPDT_Omron_G6E.wrl", "split": "train"}], "not <Library>.3dshapes/<part>.wrl"),
    ({"file": RELAY}, "malformed split file"),
])
def test_bad_split_files_name_the_file_and_the_reason(tree: Path, tmp_path: Path, parts, reason):
    path = tmp_path / "split.json"
    path.write_text(json.dumps({"parts": parts}))
    with pytest.raises(CollectionError, match=reason):
        get("kicad", str(tree), split_file=str(path)).list()
    with pytest.raises(CollectionError, match="split file does not exist"):
        get("kicad", str(tree), split_file="missing.json").list()


def test_empty_layout_and_memory_filesystem(tmp_path: Path, tree: Path, memory_copy):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CollectionError, match=r"no KiCad 3D package shapes found \(expected <Library>\.3dshapes"):
        get("kicad", str(tmp_path / "empty")).list()
    refs = get("kicad", memory_copy(tree), labels="Relay_THT").list()
    assert len(refs) == 2 and all(r.uri.startswith("memory:///") for r in refs)
    assert len(geometry.load(refs[0].uri).faces) > 100
