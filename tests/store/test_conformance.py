"""Conformance: the shipped reference datasets evaluated from docs/format.md alone.

Nothing from inrzoo is imported here on purpose: the evaluator below is written from the
spec with plain zarr and numpy, and the store is also read by a second, independent Zarr v3
implementation (tensorstore).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import zarr

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "platform" / "inrzoo" / "data" / "reference"
OLD = REPO / "tests" / "data" / "store" / "format-1.0"  # written by inrzoo before format 1.1
DATASETS = ["reference", "reference_bf16", "1.0/reference_bf16"]


def located(name: str) -> Path:
    return OLD / name.split("/", 1)[1] if name.startswith("1.0/") else REFERENCE / name
ACTIVATION = {"relu_mlp": "relu", "lightsal": "relu", "siren": "sine"}  # format.md, "Architectures"


def decode(stored: np.ndarray, dtype: str) -> np.ndarray:
    if dtype == "bfloat16":  # format.md: uint16 bit pattern = upper half of the float32 word
        return (stored.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return stored.astype(np.float64)


def encode_input(spec: dict, x: np.ndarray, constants: dict) -> np.ndarray:
    if spec["encoding"] == "none":
        return x
    if spec["encoding"] == "positional":
        parts = [x] if spec["include_input"] else []
        for k in range(spec["frequencies"]):
            angle = (2.0 ** k) * np.pi * x
            parts += [np.sin(angle), np.cos(angle)]
        return np.concatenate(parts, axis=-1)
    assert spec["encoding"] == "fourier"
    proj = 2.0 * np.pi * x @ constants["fourier_matrix"].astype(np.float64).T
    return np.concatenate([np.cos(proj), np.sin(proj)], axis=-1)


def evaluate(spec: dict, params: dict, constants: dict, x: np.ndarray) -> np.ndarray:
    enc = encode_input(spec, x, constants)
    h = enc
    for i in range(len(spec["hidden"])):
        if i in spec["skip"]:
            h = np.concatenate([h, enc], axis=-1)
        z = h @ params[f"layers.{i}.weight"].T + params[f"layers.{i}.bias"]
        if ACTIVATION[spec["name"]] == "relu":
            h = np.maximum(z, 0.0)
        else:
            h = np.sin((spec["first_omega_0"] if i == 0 else spec["omega_0"]) * z)
    out = h @ params["output.weight"].T + params["output.bias"]
    if spec["output"] == "tanh":
        out = np.tanh(out)
    return out[:, 0]


def load_row(root: zarr.Group, row: int):
    attrs = root.attrs["inrzoo"]
    group_index = int(root["records/arch"][row])
    group_row = int(root["records/arch_row"][row])
    group = root[attrs["archs"][group_index]["group"]]
    arch = group.attrs["inrzoo_arch"]
    params = {name: decode(group[name][group_row], arch["dtype"]) for name in arch["param_order"]}
    constants = {name: group[f"const/{name}"][...] for name in arch["constants"]}
    return arch["spec"], params, constants


@pytest.mark.parametrize("name", DATASETS)
def test_reference_vectors_from_the_spec_alone(name):
    root = zarr.open_group(str(located(name)) + ".zarr", mode="r", zarr_format=3)
    assert root.attrs["inrzoo"]["format"] == "inrzoo-weights"
    assert root.attrs["inrzoo"]["format_version"] == ("1.0" if name.startswith("1.0/") else "1.1")
    vectors = json.loads(Path(str(located(name)) + ".vectors.json").read_text())
    status = root["records/status"][:]
    assert len(vectors["rows"]) == int(np.sum(status == 1))  # one vector set per ok row
    families = set()
    for item in vectors["rows"]:
        assert str(root["records/id"][item["row"]]) == item["id"]
        spec, params, constants = load_row(root, item["row"])
        families.add((spec["name"], spec["encoding"], bool(spec["skip"])))
        got = evaluate(spec, params, constants, np.asarray(item["points"], dtype=np.float64))
        np.testing.assert_allclose(got, item["values"], rtol=vectors["tolerance"]["rtol"], atol=vectors["tolerance"]["atol"],
                                   err_msg=f"{name} row {item['row']} ({spec['name']})")
    if name == "reference":
        assert {f[0] for f in families} == {"relu_mlp", "siren", "lightsal"}
        assert {f[1] for f in families} == {"none", "positional", "fourier"}
        assert {"failed", "pending"} <= {({0: "pending", 2: "failed"}).get(int(s), "") for s in status}


@pytest.mark.parametrize("name", DATASETS)
def test_tensorstore_reads_the_same_arrays(name):
    import tensorstore as ts  # a dev dependency: its absence is a failure, not a skip

    path = Path(str(located(name)) + ".zarr")
    root = zarr.open_group(str(path), mode="r", zarr_format=3)

    def read(array_path: str) -> np.ndarray:
        spec = {"driver": "zarr3", "kvstore": {"driver": "file", "path": str(path / array_path)}}
        return ts.open(spec, read=True).result().read().result()

    for column in ("status", "label", "arch", "arch_row", "transform", "surface_error", "steps"):
        np.testing.assert_array_equal(read(f"records/{column}"), root[f"records/{column}"][:])
    for entry in root.attrs["inrzoo"]["archs"]:
        arch = root[entry["group"]].attrs["inrzoo_arch"]
        for param in arch["param_order"]:
            np.testing.assert_array_equal(read(f"{entry['group']}/{param}"), root[f"{entry['group']}/{param}"][:])


@pytest.mark.parametrize("name", ["reference", "reference_bf16"])
def test_row_checksums_from_the_spec_alone(name):
    """format.md, "Integrity": CRC-32 of the int64 group row, then each parameter's stored bytes."""
    import zlib

    root = zarr.open_group(str(REFERENCE / f"{name}.zarr"), mode="r", zarr_format=3)
    attrs = root.attrs["inrzoo"]
    status, crcs = root["records/status"][:], root["records/param_crc32"][:]
    for row in np.flatnonzero(status == 1):
        group_row = int(root["records/arch_row"][row])
        group = root[attrs["archs"][int(root["records/arch"][row])]["group"]]
        crc = zlib.crc32(np.int64(group_row).astype("<i8").tobytes())
        for param in group.attrs["inrzoo_arch"]["param_order"]:
            crc = zlib.crc32(np.ascontiguousarray(group[param][group_row]).tobytes(), crc)
        assert crc == int(crcs[row]), (name, row)
        for codec in root["records/status"].metadata.codecs[-1:] + group[param].metadata.codecs[-1:]:
            assert codec.to_dict()["name"] == "crc32c"
