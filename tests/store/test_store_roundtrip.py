"""Writer and reader round trips on memory:// and file:// stores: rows, records, filters,
resume, append, mixed architectures, precisions, sharding."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
import torch

import inrzoo
from inrzoo.store import RowResult, StoreError, WeightWriter
from inrzoo.store.layout import decode_params, encode_params
from store.weights_helpers import TOY, TOY_WIDE, fill, listing, ok_result, params_for


@pytest.fixture
def uri():
    return f"memory://store-tests/{uuid.uuid4().hex}.zarr"


def test_roundtrip_records_and_params(uri):
    writer = inrzoo.create_weights(uri, listing(10), [TOY], chunk_rows=4, init_seed=7,
                                   config={"loss": {"name": "l1"}}, collection={"name": "toyset"})
    assert writer.work_units() == [range(0, 4), range(4, 8), range(8, 10)]
    fill(writer, failed={3})
    assert writer.work_units() == []
    ds = inrzoo.open_weights(uri)
    assert len(ds) == 9 and 3 not in ds.rows
    rec = ds[1]
    assert (rec.row, rec.id, rec.label_name, rec.split, rec.status) == (1, "shape1", "table", "train", "ok")
    assert rec.transform == {"center": [1.0, 0.0, 0.0], "scale": 2.0}
    assert rec.metrics == {"surface_error": pytest.approx(1e-3), "final_loss": 0.5, "seconds": 1.5, "steps": 10}
    assert rec.meta == {"kind": "mesh", "licence": "CC-BY-4.0"} and rec.sha256 == f"{1:064x}"
    for name, value in params_for(TOY, 1).items():
        assert torch.equal(rec.params[name], torch.from_numpy(value))
    assert [r.id for r in ds[2:5]] == ["shape2", "shape4", "shape5"]
    assert [r.row for r in ds[[-1, 0]]] == [9, 0]
    with pytest.raises(IndexError, match="out of range"):
        ds[9]
    failed = inrzoo.open_weights(uri, status="failed")[0]
    assert (failed.row, failed.error, failed.params, failed.arch) == (3, "boom 3", None, None)
    assert inrzoo.open_weights(uri, status=None).attrs["init_seed"] == 7


def test_filters_by_split_label_status(uri):
    writer = inrzoo.create_weights(uri, listing(12), [TOY], chunk_rows=4)
    fill(writer, units=writer.work_units()[:2], failed={5})
    everything = inrzoo.open_weights(uri, status=None)
    assert len(everything) == 12
    assert list(inrzoo.open_weights(uri, status="pending").rows) == [8, 9, 10, 11]
    assert list(inrzoo.open_weights(uri, split="test").rows) == [0, 4]
    assert list(inrzoo.open_weights(uri, label=["lamp", "chair"]).rows) == [0, 2, 3, 6]
    assert list(everything.filter(split="train").filter(label="table").rows) == [1, 7, 10]
    with pytest.raises(KeyError, match="no label 'sofa'"):
        inrzoo.open_weights(uri, label="sofa")
    with pytest.raises(ValueError, match="unknown status"):
        inrzoo.open_weights(uri, status="done")


def test_resume_writes_only_pending_rows_and_keeps_the_rest(uri):
    writer = inrzoo.create_weights(uri, listing(8), [TOY], chunk_rows=4)
    writer.write(range(0, 4), [ok_result(TOY, 0), ok_result(TOY, 2)])  # rows 1 and 3 stay pending
    resumed = WeightWriter.open(uri)
    assert list(resumed.pending_rows()) == [1, 3, 4, 5, 6, 7]
    assert resumed.work_units() == [range(0, 4), range(4, 8)]
    resumed.write(range(0, 4), [ok_result(TOY, 1), ok_result(TOY, 3)])
    ds = inrzoo.open_weights(uri)
    assert list(ds.rows) == [0, 1, 2, 3]
    for rec in ds:
        assert torch.equal(rec.params["w"], torch.from_numpy(params_for(TOY, rec.row)["w"]))
        assert rec.metrics["steps"] == 10 * rec.row


def test_writes_must_be_chunk_aligned_and_inside_the_unit(uri):
    writer = inrzoo.create_weights(uri, listing(10), [TOY], chunk_rows=4)
    with pytest.raises(ValueError, match="not aligned"):
        writer.write(range(2, 6), [])
    with pytest.raises(ValueError, match="outside the unit"):
        writer.write(range(0, 4), [ok_result(TOY, 5)])
    with pytest.raises(ValueError, match="no parameters"):
        writer.write(range(0, 4), [RowResult(row=0)])
    with pytest.raises(ValueError, match="expected \\(4, 3\\)"):
        writer.write(range(0, 4), [RowResult(row=0, params={"w": np.zeros((3, 3)), "b": np.zeros(4)})])
    writer.write(range(8, 10), [ok_result(TOY, 9)])  # the short last unit ends at the dataset end


def test_append_adds_pending_rows_across_a_partial_chunk(uri):
    writer = inrzoo.create_weights(uri, listing(6), [TOY], chunk_rows=4)
    fill(writer)
    new = writer.append(listing(5, start=6) + [{"id": "extra", "label": "sofa"}])
    assert new == range(6, 12) and writer.num_rows == 12
    assert writer.attrs["label_names"] == ["chair", "lamp", "table", "sofa"]
    assert writer.work_units() == [range(4, 8), range(8, 12)]
    fill(writer)
    ds = inrzoo.open_weights(uri)
    assert len(ds) == 12 and ds[11].label_name == "sofa" and ds[11].id == "extra"
    assert torch.equal(ds[5].params["b"], torch.from_numpy(params_for(TOY, 5)["b"]))


def test_mixed_architectures_keep_one_group_each_with_an_index(uri):
    writer = inrzoo.create_weights(uri, listing(8), [TOY, TOY_WIDE], chunk_rows=4)
    for unit in writer.work_units():
        writer.write(unit, [ok_result(TOY_WIDE, r, arch=1) if r in (2, 5) else ok_result(TOY, r, arch=0) for r in unit])
    # a rewrite that moves row 2 back to the first architecture clears it from the second group
    writer.write(range(0, 4), [ok_result(TOY, 2, arch=TOY)])
    ds = inrzoo.open_weights(uri)
    assert ds[5].params["w"].shape == (8, 3) and ds[5].arch == {"name": "toy_wide"}
    assert ds[2].params["w"].shape == (4, 3)
    assert list(ds.filter(arch=1).rows) == [5]
    assert np.all(writer.groups[1].arrays["w"][2] == 0)
    with pytest.raises(ValueError, match="span architectures"):
        ds.loader(batch_size=4)
    batch = next(iter(ds.filter(arch=0).loader(batch_size=3)))
    assert batch["params"]["w"].shape == (3, 4, 3)
    with pytest.raises(ValueError, match="was not declared"):
        writer.write(range(0, 4), [ok_result(TOY, 0, arch={"name": "other"})])


@pytest.mark.parametrize("dtype,tol", [("float32", 0.0), ("float16", 1e-3), ("bfloat16", 8e-3)])
def test_precisions(uri, dtype, tol):
    writer = inrzoo.create_weights(uri, listing(4), [TOY], chunk_rows=4, dtype=dtype, codec="blosc")
    fill(writer)
    stored = writer.groups[0].arrays["w"]
    assert stored.dtype == {"float32": np.float32, "float16": np.float16, "bfloat16": np.uint16}[dtype]
    for keep, expected_dtype in ((torch.float32, torch.float32), (None, {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[dtype])):
        rec = inrzoo.open_weights(uri, torch_dtype=keep)[2]
        assert rec.params["w"].dtype == expected_dtype
        truth = torch.from_numpy(params_for(TOY, 2)["w"])
        assert torch.allclose(rec.params["w"].float(), truth, rtol=tol, atol=0)


def test_bfloat16_encoding_matches_torch_rounding():
    x = np.random.default_rng(0).standard_normal(10_000).astype(np.float32) * 100
    x[:4] = [np.inf, -np.inf, 0.0, -0.0]
    bits = encode_params(x, "bfloat16")
    assert np.array_equal(bits, torch.from_numpy(x).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16))
    assert np.array_equal(decode_params(bits, "bfloat16"), torch.from_numpy(x).to(torch.bfloat16).float().numpy())
    assert np.isnan(decode_params(encode_params(np.array([np.nan], np.float32), "bfloat16"), "bfloat16")[0])


def test_sharded_dataset_units_follow_shards(tmp_path):
    uri = (tmp_path / "sharded.zarr").as_uri()
    writer = inrzoo.create_weights(uri, listing(20), [TOY], chunk_rows=2, shard_rows=8)
    assert writer.work_units() == [range(0, 8), range(8, 16), range(16, 20)]
    with pytest.raises(ValueError, match="not aligned"):
        writer.write(range(0, 2), [])
    fill(writer)
    assert len(list((tmp_path / "sharded.zarr" / "arch" / "0" / "w" / "c").iterdir())) == 3  # one object per shard
    assert inrzoo.open_weights(uri)[17].id == "shape17"


def test_finalize_writes_statistics_and_card(tmp_path):
    uri = str(tmp_path / "card.zarr")
    writer = inrzoo.create_weights(uri, listing(6), [TOY], chunk_rows=4, collection={"name": "toyset", "licences": {"toyset": "CC0"}})
    fill(writer, failed={1})
    stats = writer.finalize(description="Toy weights.")
    assert stats["status"] == {"ok": 5, "failed": 1} and stats["split"] == {"test": 2, "train": 4}
    assert stats["metrics"]["surface_error"]["count"] == 5 and stats["bytes"]["parameters"] > 0
    card = (tmp_path / "card.zarr" / "README.md").read_text()
    for text in ("Toy weights.", "toyset: CC0", "6 shapes under CC-BY-4.0", "inrzoo.open_weights", "## How it was made"):
        assert text in card
    assert inrzoo.open_weights(uri).attrs["finalized"]["statistics"]["rows"] == 6


def test_create_refuses_to_overwrite(uri):
    inrzoo.create_weights(uri, listing(2), [TOY])
    with pytest.raises(ValueError, match="already exists"):
        inrzoo.create_weights(uri, listing(2), [TOY])
    assert inrzoo.create_weights(uri, listing(3), [TOY], overwrite=True).num_rows == 3


def test_create_checks_its_arguments_before_writing(uri):
    with pytest.raises(ValueError, match="unknown codec 'lz9'"):
        inrzoo.create_weights(uri, listing(2), [TOY], codec="lz9")
    with pytest.raises(ValueError, match="unknown parameter dtype 'float8'"):
        inrzoo.create_weights(uri, listing(2), [TOY], dtype="float8")
    with pytest.raises(ValueError, match="at least one architecture"):
        inrzoo.create_weights(uri, listing(2), [])
    with pytest.raises(ValueError, match="listed twice"):
        inrzoo.create_weights(uri, listing(2), [TOY, TOY])
    with pytest.raises(ValueError, match="multiple of chunk_rows"):
        inrzoo.create_weights(uri, listing(2), [TOY], chunk_rows=4, shard_rows=6)
    with pytest.raises(StoreError, match="no Zarr v3 group at the dataset root"):
        inrzoo.open_weights(uri)  # nothing was written by the refused calls
