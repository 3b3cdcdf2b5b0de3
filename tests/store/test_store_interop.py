"""Import of Keras (Davies et al.), inr2vec and fit-a-nef HDF5 weights; export of one INR as
safetensors + JSON. The HDF5 files are built here with h5py in each project's real layout."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
import torch
from safetensors.numpy import load_file

import inrzoo
from inrzoo.inr import ArchSpec, build
from inrzoo.store.interop import InteropError, export_inr, import_weights

DAVIES = ArchSpec.default("relu_mlp")  # 8x32 ReLU, tanh output, 7,553 parameters
SIREN = ArchSpec.default("siren", hidden=[16, 16, 16])


def canonical(spec: ArchSpec, seed: int) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in build(spec).init_params(seed).items()}


def write_keras(path, params: dict[str, np.ndarray], whole_model: bool) -> None:
    """Keras 2 HDF5: model.save() puts the weights under model_weights/, save_weights() at the root."""
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.2.4"
        f.attrs["backend"] = b"tensorflow"
        weights = f.create_group("model_weights") if whole_model else f
        if whole_model:
            f.attrs["model_config"] = json.dumps({"class_name": "Sequential"}).encode()
            f.create_group("optimizer_weights")
        names = list(params)
        layers = [b"input_1"] + [f"dense_{i}".encode() for i in range(len(names) // 2)]
        weights.attrs["layer_names"] = layers
        weights.create_group("input_1").attrs["weight_names"] = np.array([], dtype="S1")
        for i, layer in enumerate(layers[1:]):
            name = layer.decode()
            group = weights.create_group(name)
            group.attrs["weight_names"] = [f"{name}/kernel:0".encode(), f"{name}/bias:0".encode()]
            group.create_dataset(f"{name}/kernel:0", data=params[names[2 * i]].T)  # Keras kernels are [in, out]
            group.create_dataset(f"{name}/bias:0", data=params[names[2 * i + 1]])


def assert_rows_equal(ds, expected: list[dict[str, np.ndarray]]) -> None:
    assert len(ds) == len(expected)
    for record, params in zip(ds, expected):
        for name, value in params.items():
            assert torch.equal(record.params[name], torch.from_numpy(value)), (record.row, name)


@pytest.mark.parametrize("whole_model", [True, False])
def test_import_davies_keras_files(tmp_path, whole_model):
    expected = [canonical(DAVIES, s) for s in range(3)]
    files = []
    for i, params in enumerate(expected):
        write_keras(tmp_path / f"mesh{i}.h5", params, whole_model)
        files.append(str(tmp_path / f"mesh{i}.h5"))
    writer = import_weights("keras", files, str(tmp_path / "davies.zarr"), split="train")
    ds = inrzoo.open_weights(str(tmp_path / "davies.zarr"))
    assert_rows_equal(ds, expected)
    record = ds[1]
    assert record.id == "mesh1" and record.meta["imported_from"] == "keras" and record.meta["keras_version"] == "2.2.4"
    assert len(record.sha256) == 64 and record.arch == DAVIES and writer.groups[0].layout.num_params == 7553


def test_import_inr2vec_files(tmp_path):
    expected = [canonical(SIREN, s) for s in range(2)]
    files = []
    for i, params in enumerate(expected):
        path = tmp_path / f"{i}.h5"
        with h5py.File(path, "w") as f:  # inr2vec's create_inrs_dataset.py layout
            f.create_dataset("vertices", data=np.zeros((4, 3), np.float32))
            f.create_dataset("params", data=np.concatenate([v.reshape(-1) for v in params.values()]))
            f.create_dataset("class_id", data=np.array(i + 1))
        files.append(str(path))
    import_weights("inr2vec", files, str(tmp_path / "inr2vec.zarr"), arch=SIREN, label_names=["plane", "chair", "lamp"])
    ds = inrzoo.open_weights(str(tmp_path / "inr2vec.zarr"))
    assert_rows_equal(ds, expected)
    assert [r.label_name for r in ds] == ["chair", "lamp"]
    with pytest.raises(InteropError, match="1.h5: .*parameters, the architecture has"):
        import_weights("inr2vec", files[1:], str(tmp_path / "bad.zarr"), arch=DAVIES)


def test_import_fit_a_nef_shards(tmp_path):
    expected = [canonical(SIREN, s) for s in range(5)]
    # flax names, kernels [in, out], keys in fit-a-nef's param_config order (bias before kernel)
    config, columns = [], []
    for i, name in enumerate(["layers.0", "layers.1", "layers.2", "output"]):
        key = f"{'hidden_' + str(i) if name != 'output' else 'output_linear'}"
        config += [[f"{key}.bias", list(expected[0][f"{name}.bias"].shape)],
                   [f"{key}.kernel", list(expected[0][f"{name}.weight"].T.shape)]]
        columns += [np.stack([p[f"{name}.bias"] for p in expected]),
                    np.stack([p[f"{name}.weight"].T.reshape(-1) for p in expected])]
    flat = np.concatenate([c.reshape(len(expected), -1) for c in columns], axis=1)
    files = []
    for start, stop in ((0, 3), (3, 5)):
        path = tmp_path / f"nefs_{start}-{stop}.hdf5"
        with h5py.File(path, "w") as f:
            f.create_dataset("params", data=flat[start:stop])
            data = f.create_dataset("param_config", (1,), dtype=h5py.special_dtype(vlen=str))
            data[0] = json.dumps(config)
            f.create_dataset("labels", data=np.arange(start, stop) % 2)
        files.append(str(path))
    import_weights("fit_a_nef", files, str(tmp_path / "nef.zarr"), arch=SIREN, chunk_rows=2)
    ds = inrzoo.open_weights(str(tmp_path / "nef.zarr"))
    assert_rows_equal(ds, expected)
    assert [r.id for r in ds][2:4] == ["nefs_0-3/2", "nefs_3-5/0"] and ds[3].label_name == "1"


def test_import_rejects_other_files(tmp_path):
    (tmp_path / "x.h5").write_bytes(b"not hdf5")
    with pytest.raises(InteropError, match="x.h5: not an HDF5 file"):
        import_weights("keras", [str(tmp_path / "x.h5")], str(tmp_path / "x.zarr"))
    with h5py.File(tmp_path / "y.h5", "w") as f:
        f.create_dataset("params", data=np.zeros(3))
    with pytest.raises(InteropError, match="y.h5: no 'layer_names' attribute"):
        import_weights("keras", [str(tmp_path / "y.h5")], str(tmp_path / "y.zarr"))


def test_export_one_inr_as_safetensors_and_json(tmp_path):
    write_keras(tmp_path / "m.h5", canonical(DAVIES, 4), whole_model=True)
    import_weights("keras", [str(tmp_path / "m.h5")], str(tmp_path / "d.zarr"))
    ds = inrzoo.open_weights(str(tmp_path / "d.zarr"))
    tensors_path, spec_path = export_inr(ds, 0, str(tmp_path / "out" / "m"))
    tensors = load_file(tensors_path)
    info = json.loads(open(spec_path).read())
    assert list(info["param_order"]) == list(build(DAVIES).param_shapes()) and info["id"] == "m"
    arch = build(ArchSpec.from_dict(info["spec"]))
    x = torch.rand(1, 20, 3)
    got = arch.forward({k: torch.from_numpy(tensors[k])[None] for k in info["param_order"]}, x)
    assert torch.allclose(got[0], ds.module(0)(x[0]), atol=1e-6)
