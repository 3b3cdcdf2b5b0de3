"""Builders of small dataset layouts made of the real meshes in tests/data/collections."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import fsspec
import pytest
import trimesh

DATA = Path(__file__).resolve().parents[1] / "data" / "collections"
STLS = ["Basics_LetterBlock.stl", "Old_example011.stl", "Old_example014.stl", "Old_example003.stl", "nut_M8.stl"]
PLYS = ["LED_Rectangular_W3.9mm_H1.8mm.ply", "LED_Rectangular_W3.0mm_H2.0mm.ply", "Relay_SPDT_Omron_G6E.ply",
        "Relay_DPDT_Omron_G5V-2.ply", "bunny.ply"]


def real_mesh(name: str) -> trimesh.Trimesh:
    return trimesh.load(DATA / name, force="mesh")


def place(target: Path, source: str) -> Path:
    """Put a real mesh at `target`, converted when the target's format differs from the source's."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if Path(source).suffix == target.suffix:
        shutil.copyfile(DATA / source, target)
    else:
        real_mesh(source).export(target)
    return target


@pytest.fixture
def memory_copy():
    """Copy a local tree to a fresh memory:// prefix; the prefix is removed afterwards."""
    fs = fsspec.filesystem("memory")
    roots: list[str] = []

    def copy(local: Path) -> str:
        root = f"/collections-test-{uuid.uuid4().hex}"
        for path in sorted(local.rglob("*")):
            if path.is_file():
                fs.pipe(f"{root}/{path.relative_to(local).as_posix()}", path.read_bytes())
        roots.append(root)
        return f"memory://{root}"

    yield copy
    for root in roots:
        fs.rm(root, recursive=True)


@pytest.fixture(name="place")
def place_fixture():
    return place


@pytest.fixture(name="real_mesh")
def real_mesh_fixture():
    return real_mesh
