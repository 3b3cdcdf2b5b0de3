"""Read-only access over http(s) from a static server, and the errors that say what and where."""

from __future__ import annotations

import functools
import http.server
import json
import threading

import pytest
import torch

import inrzoo
from inrzoo.store import StoreError
from store.weights_helpers import TOY, fill, listing, params_for


@pytest.fixture
def served(tmp_path):
    """A finalized dataset under tmp_path, served by a static HTTP server on 127.0.0.1."""
    writer = inrzoo.create_weights(str(tmp_path / "ds.zarr"), listing(10), [TOY], chunk_rows=4)
    fill(writer, units=writer.work_units()[:2], failed={2})
    writer.finalize()
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/ds.zarr", tmp_path / "ds.zarr"
    server.shutdown()
    server.server_close()


class _Server(http.server.ThreadingHTTPServer):
    # The default listen backlog of 5 drops the concurrent connections the reader opens
    # (one per array), and each dropped SYN costs a 1 s retransmit.
    request_queue_size = 128


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_http_read_only_dataset(served):
    url, _ = served
    ds = inrzoo.open_weights(url)
    assert list(ds.rows) == [0, 1, 3, 4, 5, 6, 7]
    rec = ds[2]
    assert rec.id == "shape3" and torch.equal(rec.params["w"], torch.from_numpy(params_for(TOY, 3)["w"]))
    pending = inrzoo.open_weights(url, status="pending", split="train")
    assert list(pending.rows) == [9]
    batch = next(iter(ds.loader(batch_size=4)))
    assert batch["params"]["b"].shape == (4, 4) and batch["label"].tolist() == [0, 2, 0, 2]
    assert "## How to load it" in ds.location.read_text("README.md")
    with pytest.raises(StoreError, match="read-only"):
        inrzoo.store.WeightWriter.open(url)


def test_http_storage_options_are_checked(served):
    url, _ = served
    assert len(inrzoo.open_weights(url, {"headers": {"X-Test": "1"}, "block_size": 0})) == 7
    with pytest.raises(StoreError, match=r"\['endpoint_url'\] are not used by the 'http' filesystem"):
        inrzoo.open_weights(url, {"endpoint_url": "http://127.0.0.1:1"})


def test_unused_storage_options_name_the_option_and_uri():
    with pytest.raises(StoreError, match=r"s3://bucket/ds.zarr: storage option\(s\) \['endpoint'\]"):
        inrzoo.open_weights("s3://bucket/ds.zarr", {"endpoint": "http://127.0.0.1:8333", "key": "k"})
    with pytest.raises(StoreError, match=r"\['colour'\] are not used by the 'memory' filesystem"):
        inrzoo.open_weights("memory://x.zarr", {"colour": "red"})


def test_wrong_format_version_is_refused(tmp_path):
    inrzoo.create_weights(str(tmp_path / "ds.zarr"), listing(2), [TOY])
    meta_path = tmp_path / "ds.zarr" / "zarr.json"
    meta = json.loads(meta_path.read_text())
    meta["attributes"]["inrzoo"]["format_version"] = "2.0"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(StoreError, match=r"ds.zarr: format version '2.0' is not supported .*reads 1.x"):
        inrzoo.open_weights(str(tmp_path / "ds.zarr"))


def test_missing_array_is_named(tmp_path):
    inrzoo.create_weights(str(tmp_path / "ds.zarr"), listing(2), [TOY])
    (tmp_path / "ds.zarr" / "arch" / "0" / "b" / "zarr.json").unlink()
    with pytest.raises(StoreError, match=r"ds.zarr: required array 'arch/0/b' is missing"):
        inrzoo.open_weights(str(tmp_path / "ds.zarr"))
    (tmp_path / "ds.zarr" / "records" / "split" / "zarr.json").unlink()
    with pytest.raises(StoreError, match=r"required array 'records/split' is missing"):
        inrzoo.open_weights(str(tmp_path / "ds.zarr"))


def test_not_a_dataset(tmp_path):
    with pytest.raises(StoreError, match="no Zarr v3 group at the dataset root"):
        inrzoo.open_weights(str(tmp_path / "nothing.zarr"))
    import zarr

    zarr.open_group(str(tmp_path / "plain.zarr"), mode="w", zarr_format=3)
    with pytest.raises(StoreError, match="not an inrzoo weight dataset"):
        inrzoo.open_weights(str(tmp_path / "plain.zarr"))
