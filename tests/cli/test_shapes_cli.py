"""`inrzoo render` and `inrzoo mesh` on a small dataset of INRs with known surfaces."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import trimesh

from field_helpers import lumpy_dataset
from inrzoo import fields
from inrzoo.cli import main
from inrzoo.cli.shapes import parse_rows


def test_rows_parse_as_slices_numbers_and_lists():
    assert parse_rows("0:16", 3, "ds") == [0, 1, 2]
    assert parse_rows("1:", 3, "ds") == [1, 2] and parse_rows("::2", 5, "ds") == [0, 2, 4]
    assert parse_rows("2", 3, "ds") == [2] and parse_rows("0,-1", 3, "ds") == [0, 2]
    with pytest.raises(ValueError, match="out of range"):
        parse_rows("0,7", 3, "ds")
    with pytest.raises(ValueError, match="selects no row"):
        parse_rows("5:9", 3, "ds")
    with pytest.raises(ValueError, match="expected START:STOP"):
        parse_rows("first", 3, "ds")


def test_render_writes_one_png_of_the_rows(dataset, tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert main(["render", dataset, "--rows", "0:3", "--out", str(out), "--size", "48"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {out}: 3 rows" in capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["ply", "obj", "glb"])
def test_mesh_writes_one_file_per_row_in_the_source_frame(tmp_path, fmt, capsys):
    uri = str(tmp_path / "moved.zarr")
    ds = lumpy_dataset(uri, transform={"center": [1.0, 2.0, 3.0], "scale": 2.0})
    out = tmp_path / "meshes"
    assert main(["mesh", uri, "--rows", "1,2", "--out", str(out), "--format", fmt, "--resolution", "24"]) == 0
    files = sorted(out.iterdir())
    assert [f.name for f in files] == [f"0001_sphere1.{fmt}", f"0002_sphere2.{fmt}"]
    written = trimesh.load(files[1], force="mesh", process=False)
    normalized = fields.row(ds, 2).mesh(24)  # the INR's frame; the source frame is 2 x + (1, 2, 3)
    assert len(written.vertices) == len(normalized.vertices)
    np.testing.assert_allclose(np.sort(written.vertices, axis=0), np.sort(2 * normalized.vertices + [1, 2, 3], axis=0),
                               atol=1e-5)
    assert "2 meshes of" in capsys.readouterr().out


def test_bad_input_is_one_line_with_exit_2(dataset, tmp_path, capsys):
    assert main(["render", dataset, "--rows", "7:9", "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("inrzoo render: error: --rows '7:9' selects no row") and "\n" not in err
    assert main(["mesh", str(tmp_path / "nowhere.zarr"), "--out", str(tmp_path / "m")]) == 2
    assert "nowhere.zarr" in capsys.readouterr().err
