"""`inrzoo export` and `inrzoo import`: rows out as safetensors + JSON spec that rebuild the same
field; other projects' weight files in, including a torch zoo read with weights_only=True."""

from __future__ import annotations

import json
from fractions import Fraction

import torch
from safetensors.torch import load_file

import inrzoo
from inrzoo.cli import main
from inrzoo.inr import ArchSpec, build


def test_export_writes_safetensors_and_spec_that_rebuild_the_field(dataset, tmp_path, capsys):
    out = tmp_path / "exported"
    assert main(["export", dataset, "--rows", "1:3", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["0001_sphere1.json", "0001_sphere1.safetensors",
                                                    "0002_sphere2.json", "0002_sphere2.safetensors"]
    assert "exported 2 INRs" in capsys.readouterr().out
    info = json.loads((out / "0002_sphere2.json").read_text())
    assert info["id"] == "sphere2" and info["label"] == "a"
    spec = ArchSpec.from_dict(info["spec"])
    params = {k: v[None] for k, v in load_file(str(out / "0002_sphere2.safetensors")).items()}
    points = torch.rand(1, 64, 3) * 2 - 1
    expected = inrzoo.open_weights(dataset).evaluate([2], points)
    torch.testing.assert_close(build(spec).forward(params, points), expected)


def test_import_globs_dwsnets_files_into_a_dataset(tmp_path, capsys):
    keys = ["seq.0.weight", "seq.0.bias", "seq.1.weight", "seq.1.bias", "seq.2.weight", "seq.2.bias"]
    shapes = [(32, 2), (32,), (32, 32), (32,), (1, 32), (1,)]
    for split, digit in [("training", 1), ("testing", 4)]:
        folder = tmp_path / "inrs" / f"mnist_png_{split}_{digit}_0" / "checkpoints"
        folder.mkdir(parents=True)
        torch.save({k: torch.zeros(s) for k, s in zip(keys, shapes)}, folder / "permanent_ckpt.pth")
    out = tmp_path / "mnist.zarr"
    assert main(["import", "dwsnets", str(tmp_path / "inrs" / "**" / "*.pth"), "--out", str(out),
                 "--labels", ",".join("zero one two three four".split())]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == 2 and report["files"] == 2
    ds = inrzoo.open_weights(str(out))
    assert sorted((r.label_name, r.split) for r in ds) == [("four", "test"), ("one", "train")]


def test_import_refuses_what_needs_unpickling_in_one_line(tmp_path, capsys):
    torch.save({"model": Fraction(1, 2)}, tmp_path / "bad.pth")
    assert main(["import", "nfn", str(tmp_path / "bad.pth"), "--out", str(tmp_path / "x.zarr")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("inrzoo import: error:") and "bad.pth: not a weights-only torch state_dict" in err
    assert main(["import", "nfn", str(tmp_path / "none*.pth"), "--out", str(tmp_path / "y.zarr")]) == 2
    assert "no file matches" in capsys.readouterr().err


def test_publish_prints_the_version_and_manifest(dataset, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("INRZOO_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["publish", dataset, str(tmp_path / "pub")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["version"] == 1 and report["manifest"] == f"{tmp_path / 'pub'}/v1/manifest.json"
    assert report["licences"]["rows"] == {"CC0-1.0": 3}
    assert len(inrzoo.open_weights(report["manifest"])) == 3
