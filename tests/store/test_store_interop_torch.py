"""Import of the .pth INR zoos of DWSNets and NFN: state_dicts written here in each project's key
layout, read back with weights_only=True, and the imported row must compute the same image as
each project's own forward (written out here with torch, independently of inrzoo's MLP)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch

import inrzoo
from inrzoo.inr import ArchSpec
from inrzoo.store.interop import InteropError, import_weights


def image_siren_tensors(seed: int) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    shapes = [(32, 2), (32,), (32, 32), (32,), (1, 32), (1,)]
    return [torch.rand(s, generator=gen) * 0.4 - 0.2 for s in shapes]


def grid() -> torch.Tensor:
    axis = torch.linspace(-1, 1, 28)
    return torch.stack(torch.meshgrid(axis, axis, indexing="ij"), dim=-1).reshape(-1, 2)


def dwsnets_forward(t: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    h = torch.sin(30.0 * (x @ t[0].T + t[1]))
    h = torch.sin(30.0 * (h @ t[2].T + t[3]))
    return (h @ t[4].T + t[5]).squeeze(-1) + 0.5  # DWSNets' INR adds 0.5 to its output


def nfn_forward(t: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    return dwsnets_forward(t, x) - 0.5


def imported_image(ds, i: int) -> torch.Tensor:
    return ds.evaluate([i], grid()[None])[0]


def test_import_dwsnets_folders_labels_splits_and_output_offset(tmp_path):
    files, expected = [], []
    for i, (split, digit) in enumerate([("training", 2), ("training", 7), ("testing", 5)]):
        folder = tmp_path / f"mnist_png_{split}_{digit}_{100 + i}" / "checkpoints"
        folder.mkdir(parents=True)
        tensors = image_siren_tensors(i)
        keys = ["seq.0.weight", "seq.0.bias", "seq.1.weight", "seq.1.bias", "seq.2.weight", "seq.2.bias"]
        torch.save(dict(zip(keys, tensors)), folder / "permanent_ckpt.pth")
        files.append(str(folder / "permanent_ckpt.pth"))
        expected.append(dwsnets_forward(tensors, grid()))
    import_weights("dwsnets", files, str(tmp_path / "dws.zarr"))
    ds = inrzoo.open_weights(str(tmp_path / "dws.zarr"))
    assert [r.label_name for r in ds] == ["2", "7", "5"]
    assert [r.split for r in ds] == ["train", "train", "test"]
    spec = ds.arch_spec()
    assert (spec.in_dim, spec.hidden, spec.name) == (2, [32, 32], "siren")
    for i in range(3):
        torch.testing.assert_close(imported_image(ds, i), expected[i], atol=1e-5, rtol=1e-5)


def test_import_nfn_siren_zoo(tmp_path):
    folder = tmp_path / "randinit_smaller_3s"
    folder.mkdir()
    tensors = image_siren_tensors(4)
    keys = ["net.0.linear.weight", "net.0.linear.bias", "net.1.linear.weight", "net.1.linear.bias",
            "net.2.weight", "net.2.bias"]
    torch.save(dict(zip(keys, tensors)), folder / "net17.pth")
    import_weights("nfn", [str(folder / "net17.pth")], str(tmp_path / "nfn.zarr"), split="train")
    ds = inrzoo.open_weights(str(tmp_path / "nfn.zarr"))
    assert (ds[0].label_name, ds[0].split, ds[0].id) == ("3", "train", "net17")
    torch.testing.assert_close(imported_image(ds, 0), nfn_forward(tensors, grid()), atol=1e-5, rtol=1e-5)


def test_pickled_objects_are_refused_not_unpickled(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"model": Fraction(1, 3)}, path)  # any non-tensor object needs unpickling: refused
    with pytest.raises(InteropError, match=r"evil\.pth: not a weights-only torch state_dict"):
        import_weights("nfn", [str(path)], str(tmp_path / "x.zarr"))


def test_state_dict_needs_an_arch_and_checks_shapes(tmp_path):
    keys = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    torch.save(dict(zip(keys, [torch.zeros(8, 3), torch.zeros(8), torch.zeros(1, 8), torch.zeros(1)])),
               tmp_path / "a.pth")
    with pytest.raises(ValueError, match="no default architecture"):
        import_weights("state_dict", [str(tmp_path / "a.pth")], str(tmp_path / "a.zarr"))
    arch = ArchSpec.default("relu_mlp", hidden=[8])
    import_weights("state_dict", [str(tmp_path / "a.pth")], str(tmp_path / "a.zarr"), arch=arch)
    assert np.all(inrzoo.open_weights(str(tmp_path / "a.zarr"))[0].params["layers.0.weight"].numpy() == 0)
    with pytest.raises(InteropError, match="a.pth: layers.0.weight has shape"):
        import_weights("state_dict", [str(tmp_path / "a.pth")], str(tmp_path / "b.zarr"),
                       arch=ArchSpec.default("relu_mlp", hidden=[16]))
