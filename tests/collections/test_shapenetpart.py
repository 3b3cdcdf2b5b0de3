"""ShapeNetPart: the v0_normal layout (x y z nx ny nz part rows) and the older v0 layout."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inrzoo.collections import CollectionError, get, read_part_points

AIRPLANE, CHAIR = "02691156", "03001627"
SHAPES = {  # (synset, model) -> real mesh whose vertices and normals make the point cloud
    (AIRPLANE, "1021a0914a7207aff927ed529ad90a11"): "bunny.ply",
    (AIRPLANE, "103c9e43cdf6501c62b600da24e0965"): "Relay_DPDT_Omron_G5V-2.ply",
    (CHAIR, "1006be65e7bc937e9141f9b58470d646"): "Relay_SPDT_Omron_G6E.ply",
}
PART_IDS = {AIRPLANE: [0, 1, 2, 3], CHAIR: [12, 13, 14, 15]}


def points_with_parts(mesh, part_ids):
    """Points and normals of a real mesh, parted by height into the category's part ids."""
    z = mesh.vertices[:, 2]
    bins = np.quantile(z, np.linspace(0, 1, len(part_ids) + 1)[1:-1])
    return mesh.vertices, mesh.vertex_normals, np.asarray(part_ids)[np.digitize(z, bins)]


def build_normal(root: Path, real_mesh) -> Path:
    for (synset, model), source in SHAPES.items():
        points, normals, parts = points_with_parts(real_mesh(source), PART_IDS[synset])
        (root / synset).mkdir(parents=True, exist_ok=True)
        np.savetxt(root / synset / f"{model}.txt", np.column_stack([points, normals, parts]), fmt="%.6f")
    (root / "synsetoffset2category.txt").write_text(f"Airplane\t{AIRPLANE}\nChair\t{CHAIR}\n")
    split = root / "train_test_split"
    split.mkdir()
    models = [f"shape_data/{s}/{m}" for s, m in SHAPES]
    (split / "shuffled_train_file_list.json").write_text(json.dumps([models[2], models[0]]))
    (split / "shuffled_test_file_list.json").write_text(json.dumps([models[1]]))
    (split / "shuffled_val_file_list.json").write_text(json.dumps([]))
    return root


def test_lists_normal_layout_with_categories_splits_and_part_ids(tmp_path: Path, real_mesh):
    root = build_normal(tmp_path / "shapenetcore_partanno_segmentation_benchmark_v0_normal", real_mesh)
    refs = get("shapenetpart", str(root)).list()
    # Sorted by id with digit runs compared as numbers: 103c... comes before 1021a...
    order = [(AIRPLANE, "103c9e43cdf6501c62b600da24e0965"), (AIRPLANE, "1021a0914a7207aff927ed529ad90a11"),
             (CHAIR, "1006be65e7bc937e9141f9b58470d646")]
    assert [r.id for r in refs] == [f"shapenetpart/{s}/{m}" for s, m in order]
    assert [r.label for r in refs] == ["Airplane", "Airplane", "Chair"]
    assert [r.split for r in refs] == ["test", "train", "train"]
    assert all(r.kind == "pointcloud" for r in refs) and refs[2].meta["part_ids"] == [12, 13, 14, 15]
    assert [r.id for r in get("shapenetpart", str(root), labels=CHAIR).list()] == [refs[2].id]
    assert [r.id for r in get("shapenetpart", str(root), split="test").list()] == [refs[0].id]


def test_read_part_points_gives_points_normals_and_parts(tmp_path: Path, real_mesh):
    root = build_normal(tmp_path / "part", real_mesh)
    ref = get("shapenetpart", str(root), labels="Chair").list()[0]
    cloud = read_part_points(ref)
    expected_points, expected_normals, expected_parts = points_with_parts(real_mesh("Relay_SPDT_Omron_G6E.ply"),
                                                                          PART_IDS[CHAIR])
    np.testing.assert_allclose(cloud.points, expected_points, atol=1e-6)
    np.testing.assert_allclose(cloud.normals, expected_normals, atol=1e-6)
    np.testing.assert_array_equal(cloud.parts, expected_parts)
    assert cloud.parts.dtype == np.int64 and 2 <= len(set(cloud.parts)) and set(cloud.parts) <= {12, 13, 14, 15}


def test_v0_layout_pts_and_seg(tmp_path: Path, real_mesh):
    root = tmp_path / "shapenetcore_partanno_segmentation_benchmark_v0"
    mesh = real_mesh("bunny.ply")
    (root / AIRPLANE / "points").mkdir(parents=True)
    (root / AIRPLANE / "points_label").mkdir()
    np.savetxt(root / AIRPLANE / "points" / "abc.pts", mesh.vertices, fmt="%.5f")
    np.savetxt(root / AIRPLANE / "points_label" / "abc.seg", (mesh.vertices[:, 2] > 0).astype(int) + 1, fmt="%d")
    refs = get("shapenetpart", str(root)).list()
    assert [(r.id, r.label, r.split) for r in refs] == [(f"shapenetpart/{AIRPLANE}/abc", "Airplane", None)]
    cloud = read_part_points(refs[0])
    assert cloud.points.shape == mesh.vertices.shape and cloud.normals is None
    assert set(cloud.parts) == {1, 2} and len(cloud.parts) == len(mesh.vertices)
    np.savetxt(root / AIRPLANE / "points_label" / "abc.seg", [1, 2], fmt="%d")
    with pytest.raises(CollectionError, match="abc.seg: 2 part labels for"):
        read_part_points(refs[0])


def test_malformed_inputs_name_the_file(tmp_path: Path, real_mesh):
    root = build_normal(tmp_path / "part", real_mesh)
    (root / "train_test_split" / "shuffled_val_file_list.json").write_text('{"a": 1}')
    with pytest.raises(CollectionError, match="shuffled_val_file_list.json: malformed split list"):
        get("shapenetpart", str(root)).list()
    (root / "train_test_split" / "shuffled_val_file_list.json").write_text("[")
    with pytest.raises(CollectionError, match="shuffled_val_file_list.json: malformed JSON"):
        get("shapenetpart", str(root)).list()
    (root / "train_test_split" / "shuffled_val_file_list.json").write_text("[]")
    (root / "synsetoffset2category.txt").write_text("Airplane 02691156 extra\n")
    with pytest.raises(CollectionError, match="synsetoffset2category.txt: malformed line 1"):
        get("shapenetpart", str(root)).list()
    bad = root / AIRPLANE / "1021a0914a7207aff927ed529ad90a11.txt"
    bad.write_text("1 2 3 4 5 6 0.5\n")
    with pytest.raises(CollectionError, match="1021a0914a7207aff927ed529ad90a11.txt: part labels are not integers"):
        read_part_points(str(bad))
    bad.write_text("1 2 3 4 5 6\n")
    with pytest.raises(CollectionError, match="1021a0914a7207aff927ed529ad90a11.txt: expected rows of 7 numbers"):
        read_part_points(str(bad))


def test_lists_and_reads_a_memory_filesystem(tmp_path: Path, real_mesh, memory_copy):
    root = memory_copy(build_normal(tmp_path / "part", real_mesh))
    refs = get("shapenetpart", root, split="train").list()
    assert len(refs) == 2 and refs[0].uri.startswith("memory:///")
    assert read_part_points(refs[0]).points.shape[1] == 3
