"""A source folder nobody curated: every bad file is one failed row (the listing never aborts),
links leaving the root are not followed unless asked, header counts must fit the file, and a
shape kind the preset cannot fit names the presets that can."""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from inrzoo.collections import get
from inrzoo.geometry import GeometryError, parse

DATA = Path(__file__).resolve().parents[1] / "data" / "collections"


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    root, outside = tmp_path / "src", tmp_path / "outside"
    (root / "a").mkdir(parents=True)
    outside.mkdir()
    shutil.copy(DATA / "nut_M8.stl", root / "a" / "nut.stl")
    shutil.copy(DATA / "nut_M8.stl", outside / "private.stl")
    (root / "a" / "empty.ply").write_bytes(b"")
    (root / "a" / "garbage.ply").write_bytes(os.urandom(256))
    os.symlink(outside / "private.stl", root / "a" / "link_out.stl")
    os.symlink(root / "a" / "nut.stl", root / "a" / "link_in.stl")
    os.symlink(tmp_path / "nowhere.stl", root / "a" / "dangling.stl")
    os.symlink(root, root / "a" / "loop")  # a folder link back to the root: never walked
    os.mkfifo(root / "a" / "pipe.ply")
    (root / "a" / "folder.stl").mkdir()
    with open(os.fsencode(root / "a") + b"/caf\xe9.stl", "wb") as handle:  # not a UTF-8 name
        handle.write((DATA / "nut_M8.stl").read_bytes())
    return root


def errors(refs) -> dict[str, str | None]:
    return {ref.id.split("/", 1)[-1]: ref.meta.get("listing_error") for ref in refs}


def test_listing_turns_every_bad_file_into_a_failed_row(hostile):
    found = errors(get("folder", str(hostile)).list())
    assert found["a/nut.stl"] is None and found["a/link_in.stl"] is None
    assert "outside the collection root (set source.follow_links: true" in found["a/link_out.stl"]
    assert "broken symbolic link" in found["a/dangling.stl"]
    assert "not a regular file" in found["a/pipe.ply"]
    assert "not a PLY file" in found["a/empty.ply"] and "not a PLY file" in found["a/garbage.ply"]
    assert "not valid UTF-8" in found["a/caf\\xe9.stl"]
    assert not any(name.startswith("a/loop") for name in found)


def test_links_outside_the_root_are_followed_only_when_asked(hostile):
    found = errors(get("folder", str(hostile), follow_links=True).list())
    assert found["a/link_out.stl"] is None and "broken symbolic link" in found["a/dangling.stl"]


def test_ply_header_counts_must_fit_the_file():
    header = b"ply\nformat ascii 1.0\nelement vertex 1000000000000\nproperty float x\nproperty float y\n" \
             b"property float z\nend_header\n"
    with pytest.raises(GeometryError, match="declares 1000000000000 vertex, which need at least"):
        parse(header + b"0 0 0\n1 1 1\n", "memory://x.ply")
    binary = header.replace(b"ascii", b"binary_little_endian").replace(b"1000000000000", b"3")
    with pytest.raises(GeometryError, match="need at least 36 bytes; the file has 24"):
        parse(binary + struct.pack("<6f", 0, 0, 0, 1, 1, 1), "memory://y.ply")
    cloud = parse(binary + struct.pack("<9f", 0, 0, 0, 1, 1, 1, 0, 1, 0), "memory://z.ply")
    assert cloud.kind == "pointcloud" and len(cloud.points) == 3


def test_stl_triangle_count_must_fit_the_file():
    import trimesh

    data = trimesh.creation.box().export(file_type="stl")  # binary STL, 12 triangles
    count = int(np.frombuffer(data[80:84], dtype="<u4")[0])
    assert parse(data, "memory://box.stl").kind == "mesh"
    forged = data[:80] + struct.pack("<I", count * 1000) + data[84:]
    with pytest.raises(GeometryError, match=f"declares {count * 1000} triangles"):
        parse(forged, "memory://nut.stl")


def test_npy_and_npz_headers_must_fit_the_file():
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.zeros((4, 3)))
    data = buffer.getvalue().replace(b"(4, 3)", b"(400000000000, 3)", 1)
    with pytest.raises(GeometryError, match="NPY header declares float64 \\[400000000000, 3\\]"):
        parse(data, "memory://p.npy")
    archive = io.BytesIO()
    np.savez_compressed(archive, points=np.tile(np.eye(3), (10**5, 1)))  # 7 MB of repeated rows in a few kB
    assert parse(archive.getvalue(), "memory://ok.npz").points.shape == (3 * 10**5, 3)
    bomb = io.BytesIO()
    with __import__("zipfile").ZipFile(bomb, "w") as zf:
        zf.writestr("points.npy", data)
    with pytest.raises(GeometryError, match="NPY header declares"):
        parse(bomb.getvalue(), "memory://bomb.npz")


def test_binvox_dims_are_bounded():
    data = b"#binvox 1\ndim 100000 100000 100000\ntranslate 0 0 0\nscale 1\ndata\n" + bytes([1, 255]) * 4
    with pytest.raises(GeometryError, match="binvox dims"):
        parse(data, "memory://v.binvox")


def test_the_conversion_configs_follow_links_reaches_the_listing(hostile):
    from inrzoo.pipeline import ConvertConfig
    from inrzoo.pipeline.run import list_shapes

    def link_out(follow: bool) -> str | None:
        cfg = ConvertConfig()
        cfg.source.uri, cfg.source.follow_links = str(hostile), follow
        rows = {row["id"].split("/", 1)[-1]: row["meta"] for row in list_shapes(cfg)}
        return rows["a/link_out.stl"].get("listing_error")

    assert "set source.follow_links: true" in link_out(False) and link_out(True) is None
