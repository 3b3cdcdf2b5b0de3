"""Publishing numbered versions with checksums and licences, and open_weights of a published
version through the verified cache, from a folder and over HTTP (a real local web server)."""

from __future__ import annotations

import functools
import http.server
import json
import threading

import pytest
import torch

import inrzoo
from field_helpers import lumpy_dataset
from inrzoo.store.publish import PublishError, publish


@pytest.fixture
def dataset(tmp_path, monkeypatch):
    torch.set_num_threads(1)
    monkeypatch.setenv("INRZOO_CACHE_DIR", str(tmp_path / "cache"))
    uri = str(tmp_path / "spheres.zarr")
    lumpy_dataset(uri)
    return uri


def test_publish_writes_a_version_with_checksums_licences_and_a_stamped_card(dataset, tmp_path):
    dest = tmp_path / "pub" / "spheres"
    manifest = publish(dataset, str(dest))
    assert manifest["version"] == 1 and manifest["manifest_uri"] == f"{dest}/v1/manifest.json"
    on_disk = json.loads((dest / "v1" / "manifest.json").read_text())
    assert on_disk["files"] == manifest["files"] and "zarr.json" in on_disk["files"]
    assert on_disk["licences"]["rows"] == {"CC0-1.0": 3}
    card = (dest / "v1" / "README.md").read_text()
    assert card.startswith("---\n") and "\nversion: 1\n---" in card and "Published version 1" in card
    assert publish(dataset, str(dest))["version"] == 1  # unchanged: not published twice
    assert json.loads((dest / "versions.json").read_text())["versions"][0]["manifest"] == "v1/manifest.json"


def test_open_weights_of_a_published_version_reads_a_verified_copy(dataset, tmp_path):
    dest = tmp_path / "pub"
    uri = publish(dataset, str(dest))["manifest_uri"]
    original = inrzoo.open_weights(dataset, split="train")
    published = inrzoo.open_weights(uri, split="train")
    assert str(tmp_path / "cache") in published.uri and len(published) == len(original) == 2
    for a, b in zip(original, published):
        assert a.id == b.id and all(torch.equal(a.params[k], b.params[k]) for k in a.params)
    assert len(inrzoo.open_weights(f"{dest}/versions.json")) == 3  # the latest version


def test_a_changed_published_file_is_refused_naming_it(dataset, tmp_path):
    dest = tmp_path / "pub"
    uri = publish(dataset, str(dest))["manifest_uri"]
    chunk = next(p for p in (dest / "v1" / "arch").rglob("*") if p.is_file() and p.name != "zarr.json")
    chunk.write_bytes(chunk.read_bytes()[::-1] + b"x")
    with pytest.raises(PublishError, match=f"{chunk.relative_to(dest / 'v1')} has sha256"):
        inrzoo.open_weights(uri)


def test_open_over_http(dataset, tmp_path):
    publish(dataset, str(tmp_path / "site" / "spheres"))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "site"))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/spheres/v1/manifest.json"
        ds = inrzoo.open_weights(url, split="test")
        assert [r.id for r in ds] == ["sphere0"]
    finally:
        server.shutdown()
