"""Weight datasets with one hostile change each: refused with a StoreError that names the dataset
and the array (and the row), or read intact where the change is harmless. Never a wrong value."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import inrzoo
from inrzoo.store import StoreError, verify
from store.hostile_helpers import (
    arch_attrs,
    chunk_files,
    copy_of,
    edit_json,
    expected_params,
    inflate_rows_keeping_last_chunk,
    make_dataset,
    rewrite_chunk,
    set_all_rows,
    set_record,
    zstd_bomb_header,
)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("hostile") / "base.zarr")


@pytest.fixture
def ds_path(base, tmp_path):
    return copy_of(base, tmp_path / "ds.zarr")


def refused(path, *patterns):
    with pytest.raises(StoreError) as info:
        dataset = inrzoo.open_weights(str(path), status=None)
        dataset[:]
    for pattern in (str(path), *patterns):
        assert pattern in str(info.value), str(info.value)
    assert not verify(str(path)).ok
    return str(info.value)


def test_intact_dataset_reads_and_verifies(base):
    ds = inrzoo.open_weights(str(base))
    assert len(ds) == 9
    for rec in ds:
        for name, value in expected_params(rec.row).items():
            assert torch.equal(rec.params[name], torch.from_numpy(value))
    report = verify(str(base))
    assert report.ok, report.problems
    assert report.ok_rows_checked == 9 and report.chunks_read > 30


@pytest.mark.parametrize("rows", [300_000_000, 10**12])
def test_inflated_row_count_is_refused_before_allocating(ds_path, rows):
    set_all_rows(ds_path, rows)
    refused(ds_path, "array 'records/", "declared rows")


def test_inflated_rows_with_the_last_chunk_present(ds_path):
    """The last chunk alone does not back the rows in between."""
    inflate_rows_keeping_last_chunk(ds_path, 4000)
    refused(ds_path, "declared rows", "first missing: chunk 3")


def test_huge_parameter_shape_is_refused(ds_path):
    edit_json(ds_path / "arch/0/zarr.json", lambda m: arch_attrs(m)["param_shapes"].__setitem__("layers.1.weight", [32, 10**9]))
    edit_json(ds_path / "arch/0/layers.1.weight/zarr.json", lambda m: m.update(shape=[10, 32, 10**9],
              chunk_grid={"name": "regular", "configuration": {"chunk_shape": [4, 32, 10**9]}}))
    refused(ds_path, "group 'arch/0'")


def test_negative_arch_row_is_refused(ds_path):
    set_record(ds_path, "arch_row", 1, -1)
    refused(ds_path, "array 'records/arch_row' row 1")


def test_arch_row_of_another_row_is_refused(ds_path):
    set_record(ds_path, "arch_row", 1, 2)
    refused(ds_path, "rows [1, 2]", "same parameters")


def test_parameters_retyped_to_int32_are_refused(ds_path):
    edit_json(ds_path / "arch/0/layers.0.weight/zarr.json", lambda m: m.update(data_type="int32"))
    refused(ds_path, "array 'arch/0/layers.0.weight'", "int32", "float32")


def test_group_dtype_that_disagrees_with_the_arrays_is_refused(ds_path):
    edit_json(ds_path / "arch/1/zarr.json", lambda m: arch_attrs(m).update(dtype="bfloat16"))
    refused(ds_path, "group 'arch/1'", "inrzoo_arch.dtype")


@pytest.mark.parametrize("width", [64, 10**9])
def test_spec_wider_than_the_arrays_is_refused(ds_path, width):
    edit_json(ds_path / "arch/0/zarr.json", lambda m: arch_attrs(m)["spec"].update(hidden=[width] * 3))
    refused(ds_path, "group 'arch/0'", "implies parameters")


def test_unknown_status_code_is_refused(ds_path):
    set_record(ds_path, "status", 3, 9)
    refused(ds_path, "array 'records/status' row 3", "status code 9")


def test_label_index_out_of_range_is_refused(ds_path):
    set_record(ds_path, "label", 0, 7)
    refused(ds_path, "array 'records/label' row 0")


def test_arch_index_out_of_range_is_refused(ds_path):
    set_record(ds_path, "arch", 0, 5)
    refused(ds_path, "array 'records/arch' row 0")


def test_status_fill_value_changed_is_refused(ds_path):
    edit_json(ds_path / "records/status/zarr.json", lambda m: m.update(fill_value=1))
    refused(ds_path, "array 'records/status'", "fill value")


def test_codec_chain_without_checksum_is_refused(ds_path):
    edit_json(ds_path / "records/label/zarr.json", lambda m: m.update(codecs=m["codecs"][:-1]))
    refused(ds_path, "array 'records/label'", "crc32c")


def test_transpose_codec_is_refused(ds_path):
    edit_json(ds_path / "arch/0/layers.0.weight/zarr.json",
              lambda m: m.update(codecs=[{"name": "transpose", "configuration": {"order": [0, 2, 1]}}, *m["codecs"]]))
    refused(ds_path, "array 'arch/0/layers.0.weight'")


def test_chunk_grid_that_disagrees_with_the_layout_is_refused(ds_path):
    edit_json(ds_path / "records/split/zarr.json",
              lambda m: m.update(chunk_grid={"name": "regular", "configuration": {"chunk_shape": [2]}}))
    refused(ds_path, "array 'records/split'", "chunks")


def test_corrupt_parameter_chunk_is_named(ds_path):
    chunk = chunk_files(ds_path / "arch/0/layers.1.weight")[1]
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2] ^= 0x55
    chunk.write_bytes(bytes(data))
    refused(ds_path, "array 'arch/0/layers.1.weight' rows 4:8", "checksum")


def test_missing_parameter_chunk_is_caught_by_the_row_checksum(ds_path):
    chunk_files(ds_path / "arch/0/layers.2.weight")[0].unlink()
    message = refused(ds_path, "records/param_crc32")
    assert "row 0" in message


def test_missing_chunk_of_zeros_reads_intact_and_verify_reports_it(ds_path):
    """Glorot biases start at 0: the fill value gives the same values, only verify notices."""
    chunk_files(ds_path / "arch/0/layers.2.bias")[0].unlink()
    ds = inrzoo.open_weights(str(ds_path))
    assert torch.equal(ds[1].params["layers.2.bias"], torch.from_numpy(expected_params(1)["layers.2.bias"]))
    report = verify(str(ds_path))
    assert report.problems == [f"{ds_path}: array 'arch/0/layers.2.bias' lacks chunk 0 (rows 0:4), which the format requires"]


def test_swapped_parameter_chunks_are_caught_by_the_row_checksum(ds_path):
    first, second = chunk_files(ds_path / "arch/0/layers.0.weight")[:2]
    a, b = first.read_bytes(), second.read_bytes()
    first.write_bytes(b)
    second.write_bytes(a)
    refused(ds_path, "records/param_crc32")


def test_nan_in_an_ok_row_is_refused(ds_path):
    """Even with every checksum recomputed, an ok row may not hold NaN."""
    import zarr

    from inrzoo.store.integrity import row_crc32

    root = zarr.open_group(str(ds_path), mode="r+", zarr_format=3)
    names = list(arch_attrs({"attributes": dict(root["arch/0"].attrs)})["param_order"])
    weight = root["arch/0/layers.0.weight"]
    block = weight[0:4]
    block[2, 0, 0] = np.nan
    weight[0:4] = block
    crc = root["records/param_crc32"]
    crcs = crc[0:4]
    crcs[2] = row_crc32(2, [np.asarray(root[f"arch/0/{n}"][2]) for n in names])
    crc[0:4] = crcs
    refused(ds_path, "array 'arch/0/layers.0.weight' row 2", "NaN")


@pytest.mark.parametrize("claimed", [2**31, 2**40])
def test_zstd_frame_claiming_gigabytes_is_refused(ds_path, claimed):
    chunk = chunk_files(ds_path / "records/id")[0]
    rewrite_chunk(chunk, lambda data: zstd_bomb_header(claimed))
    refused(ds_path, "array 'records/id' rows 0:4", "claims")


def test_blosc_header_claiming_gigabytes_is_refused(ds_path):
    chunk = chunk_files(ds_path / "arch/1/layers.0.weight")[0]
    rewrite_chunk(chunk, lambda data: data[:4] + (2**31 - 1).to_bytes(4, "little") + data[8:])
    refused(ds_path, "array 'arch/1/layers.0.weight' rows 4:8", "blosc header")


def test_gzip_bomb_is_refused(tmp_path):
    import gzip

    path = make_dataset(tmp_path / "gz.zarr", codec="gzip")
    chunk = chunk_files(path / "arch/0/output.bias")[0]
    rewrite_chunk(chunk, lambda data: gzip.compress(b"\0" * 50_000_000))
    refused(path, "array 'arch/0/output.bias' rows 0:4", "gzip")


def test_vlen_count_claiming_billions_is_refused(ds_path):
    import numcodecs

    chunk = chunk_files(ds_path / "records/split")[0]
    zstd = numcodecs.Zstd(level=0)
    rewrite_chunk(chunk, lambda data: zstd.encode((4_000_000_000).to_bytes(4, "little") + zstd.decode(data)[4:]))
    refused(ds_path, "array 'records/split' rows 0:4", "declares 4000000000 strings")


def test_fourier_matrix_that_disagrees_with_its_seed_is_refused(tmp_path):
    from inrzoo.inr import ArchSpec
    from inrzoo.store.reference import REFERENCE_ARCHS, build_dataset

    path = tmp_path / "fourier.zarr"
    build_dataset(str(path), [REFERENCE_ARCHS[3]], "float32", False)
    assert ArchSpec.from_dict(json.loads((path / "arch/0/zarr.json").read_text())["attributes"]["inrzoo_arch"]["spec"]).encoding == "fourier"
    edit_json(path / "arch/0/zarr.json", lambda m: arch_attrs(m)["spec"].update(fourier_seed=4))
    refused(path, "arch/0/const/fourier_matrix", "fourier_seed")


def test_meta_that_is_not_json_is_refused(ds_path):
    set_record(ds_path, "meta", 2, "{not json")
    refused(ds_path, "array 'records/meta' row 2")


def test_foreign_architecture_is_read_but_not_evaluated(ds_path):
    edit_json(ds_path / "arch/1/zarr.json", lambda m: arch_attrs(m)["spec"].update(name="mystery_net"))
    ds = inrzoo.open_weights(str(ds_path))
    record = ds[7]
    assert record.arch["name"] == "mystery_net" and torch.equal(record.params["output.bias"],
                                                                torch.from_numpy(expected_params(7)["output.bias"]))
    with pytest.raises(StoreError, match="'mystery_net', which inrzoo cannot evaluate"):
        ds.evaluate([7], torch.zeros(4, 3))


def test_harmless_attribute_changes_read_intact(ds_path):
    edit_json(ds_path / "zarr.json", lambda m: m["attributes"]["inrzoo"]["created"].update(by="someone else"))
    edit_json(ds_path / "zarr.json", lambda m: m["attributes"]["inrzoo"].update(label_names=["x", "y"]))
    ds = inrzoo.open_weights(str(ds_path))
    assert ds[0].label_name == "x"
    assert torch.equal(ds[3].params["layers.0.weight"], torch.from_numpy(expected_params(3)["layers.0.weight"]))
    assert verify(str(ds_path)).ok


def test_stray_chunk_outside_the_grid_is_reported_by_verify_only(ds_path):
    (ds_path / "records/label/c/77").write_bytes(b"junk")
    assert len(inrzoo.open_weights(str(ds_path))) == 9
    report = verify(str(ds_path))
    assert not report.ok and "'records/label/c/77', which is no chunk of its grid" in report.problems[0]


def test_reading_parameters_never_wraps_negative_rows(base):
    ds = inrzoo.open_weights(str(base))
    with pytest.raises(IndexError, match="outside"):
        ds.read_params([-1], 0)
