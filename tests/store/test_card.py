"""The dataset card: Hugging Face style header, title from the collection, sections in reading
order, previews, and a loading snippet that runs on the dataset it describes."""

from __future__ import annotations

import re

import yaml

import inrzoo
from field_helpers import lumpy_dataset


def card_of(uri: str) -> str:
    return inrzoo.open_weights(uri).location.read_text("README.md")


def test_card_reads_in_order_with_a_header(tmp_path):
    uri = str(tmp_path / "spheres.zarr")
    lumpy_dataset(uri, config={"target": "sdf", "normalize": "sphere", "fit": {"loss": {"name": "l1"}}})
    card = card_of(uri)
    front, body = re.match(r"---\n(.*?)\n---\n\n(.*)", card, re.S).groups()
    header = yaml.safe_load(front)
    assert header["license"] == "cc0-1.0" and header["size_categories"] == ["n<1K"]
    assert "implicit-neural-representation" in header["tags"] and header["inrzoo"]["fitted_rows"] == 3
    assert body.startswith("# Lumpy spheres\n")  # the collection's own title
    order = [body.index(s) for s in ("## Quality", "## How to load it", "## Contents", "## Sources and licences",
                                     "## How it was made", "## Configuration")]
    assert order == sorted(order)
    assert "3 shapes under CC0-1.0" in body and "67% of fitted shapes below 0.003, 0 above 0.01" in body


def test_title_comes_from_the_collection(tmp_path):
    from inrzoo.store.card import card_title

    stats = {"rows": 9}
    attrs = {"collection": {"name": "folder", "root": "/data/demo/"}, "config": {"target": "sdf"},
             "archs": [{"label": "relu_mlp-8x32"}]}
    assert card_title(attrs, stats) == "demo: 9 shapes as SDF INRs (relu_mlp-8x32)"
    attrs["collection"] = {"name": "thingi10k", "root": "s3://bucket/thingi"}
    assert card_title(attrs, stats).startswith("Thingi10K: 9 shapes")


def test_the_loading_snippet_runs_on_its_dataset(tmp_path, monkeypatch):
    uri = str(tmp_path / "spheres.zarr")
    lumpy_dataset(uri)
    snippet = re.search(r"## How to load it\n\n```python\n(.*?)```", card_of(uri), re.S).group(1)
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(snippet, "README.md snippet", "exec"), scope)  # noqa: S102 - the card's own code
    assert len(scope["ds"]) == 3 and len(scope["part"]) == 2
    assert scope["batch"]["params"]["output.bias"].shape[0] == 3
    assert (tmp_path / "grid.png").stat().st_size > 0


def test_previews_are_drawn_next_to_the_card(tmp_path):
    uri = str(tmp_path / "spheres.zarr")
    lumpy_dataset(uri)
    writer = inrzoo.store.WeightWriter.open(uri)
    writer.finalize(previews=True)
    card = card_of(uri)
    assert "](previews.png)" in card
    assert (tmp_path / "spheres.zarr" / "previews.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
