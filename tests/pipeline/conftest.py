"""A small real collection (with one broken file) and a tiny conversion budget for pipeline tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from inrzoo.pipeline import load_convert_config

DATA = Path(__file__).resolve().parents[1] / "data" / "collections"
MESHES = {"part": ["nut_M8.stl", "Old_example011.stl"], "block": ["Basics_LetterBlock.stl", "Old_example014.stl"]}


@pytest.fixture()
def mesh_folder(tmp_path: Path) -> Path:
    root = tmp_path / "meshes"
    for label, names in MESHES.items():
        (root / label).mkdir(parents=True)
        for name in names:
            shutil.copy(DATA / name, root / label / name)
    (root / "block" / "broken.stl").write_bytes(b"solid broken\n  facet normal 0 0 nan\n not an stl at all")
    return root


@pytest.fixture()
def tiny_config():
    """Factory: the davies preset with a budget of seconds (the method, not its figures, is under test)."""
    return _tiny_config


def _tiny_config(source: Path | str, out: str, tmp_path: Path, *extra: str):
    return load_convert_config(None, [
        f"source.uri={source}", f"output.uri={out}", "preset=davies", "output.chunk_rows=2",
        "sampler.options.n=4096", "sampler.options.pool_size=20000", "fit.max_epochs=2", "fit.batch_size=512",
        "fit.escalation.ladder=[]", "eval.surface_points=2000", "eval.chamfer_points=1000", "eval.mesh_resolution=64",
        f"tracking.tracking_uri=sqlite:///{tmp_path / 'mlflow.db'}", *extra,
    ])
