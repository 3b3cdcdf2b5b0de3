"""ShapeNetPart (Yi et al. 2016): ShapeNet point clouds with per-point part labels.

Two layouts of the benchmark are listed:
- shapenetcore_partanno_segmentation_benchmark_v0_normal: <synset>/<model>.txt, one point per row
  "x y z nx ny nz part" with the 50 part ids numbered globally (Airplane 0-3 ... Table 47-49);
- shapenetcore_partanno_segmentation_benchmark_v0: <synset>/points/<model>.pts ("x y z") with
  the part of each point in <synset>/points_label/<model>.seg (numbered from 1 per category).
Categories are named from synsetoffset2category.txt ("Airplane\\t02691156"), splits come from
train_test_split/shuffled_{train,val,test}_file_list.json ("shape_data/<synset>/<model>").
`read_part_points` reads a listed shape with its part labels.
"""

from __future__ import annotations

import io
import posixpath
import re
from dataclasses import dataclass
from typing import Any, Iterable

import fsspec
import numpy as np

from inrzoo.collections.base import (
    Collection,
    CollectionError,
    ShapeRef,
    full_uri,
    join,
    read_json,
    read_text,
    matching_files,
    register,
)
from inrzoo.collections.shapenet import SHAPENET_TERMS

# The benchmark's 16 categories and the global part ids of each (as in the normal layout).
CATEGORIES: dict[str, tuple[str, list[int]]] = {
    "02691156": ("Airplane", [0, 1, 2, 3]), "02773838": ("Bag", [4, 5]), "02954340": ("Cap", [6, 7]),
    "02958343": ("Car", [8, 9, 10, 11]), "03001627": ("Chair", [12, 13, 14, 15]),
    "03261776": ("Earphone", [16, 17, 18]), "03467517": ("Guitar", [19, 20, 21]), "03624134": ("Knife", [22, 23]),
    "03636649": ("Lamp", [24, 25, 26, 27]), "03642806": ("Laptop", [28, 29]),
    "03790512": ("Motorbike", [30, 31, 32, 33, 34, 35]), "03797390": ("Mug", [36, 37]),
    "03948459": ("Pistol", [38, 39, 40]), "04099429": ("Rocket", [41, 42, 43]),
    "04225987": ("Skateboard", [44, 45, 46]), "04379243": ("Table", [47, 48, 49]),
}
LAYOUTS = {
    "normal": re.compile(r"^(\d{8})/([^/]+)\.txt$"),
    "v0": re.compile(r"^(\d{8})/points/([^/]+)\.pts$"),
}


@dataclass
class PartPoints:
    points: np.ndarray  # float64 [N, 3]
    normals: np.ndarray | None  # float64 [N, 3]
    parts: np.ndarray  # int64 [N]
    source: str


@register("shapenetpart")
@dataclass
class ShapeNetPart(Collection):
    title = "ShapeNetPart"
    license_note = "ShapeNetPart annotations on ShapeNetCore models; " + SHAPENET_TERMS

    def layout_hint(self) -> str:
        return "expected <synset>/<model>.txt (v0_normal) or <synset>/points/<model>.pts (v0)"

    def scan(self, fs: fsspec.AbstractFileSystem, root: str) -> Iterable[ShapeRef]:
        names = self._category_names(fs, root)
        splits = self._splits(fs, root)
        for rel, layout, match in matching_files(fs, root, LAYOUTS):
            synset, model = match.groups()
            meta: dict[str, Any] = {"synset_id": synset, "model_id": model, "layout": layout,
                                    "license": self.license_note}
            if layout == "normal":
                meta["part_ids"] = CATEGORIES.get(synset, (None, None))[1]
            else:
                meta["part_labels_uri"] = full_uri(fs, join(root, f"{synset}/points_label/{model}.seg"))
            yield ShapeRef(f"shapenetpart/{synset}/{model}", full_uri(fs, join(root, rel)), names.get(synset, synset),
                           splits.get((synset, model)), "pointcloud", meta)

    def label_keys(self, ref: ShapeRef) -> set[str | None]:
        return {ref.label, ref.meta["synset_id"]}

    def _category_names(self, fs: fsspec.AbstractFileSystem, root: str) -> dict[str, str]:
        names = {synset: name for synset, (name, _) in CATEGORIES.items()}
        path = join(root, "synsetoffset2category.txt")
        if not fs.isfile(path):
            return names
        for number, line in enumerate(read_text(fs, path).splitlines(), start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2 or not re.fullmatch(r"\d{8}", fields[1]):
                raise CollectionError(f"{full_uri(fs, path)}: malformed line {number} (expected '<name> <synset>'): {line!r}")
            names[fields[1]] = fields[0]
        return names

    def _splits(self, fs: fsspec.AbstractFileSystem, root: str) -> dict[tuple[str, str], str]:
        table: dict[tuple[str, str], str] = {}
        for split in ("train", "val", "test"):
            path = join(root, f"train_test_split/shuffled_{split}_file_list.json")
            if not fs.isfile(path):
                continue
            entries = read_json(fs, path)
            if not isinstance(entries, list) or not all(isinstance(e, str) and e.count("/") >= 2 for e in entries):
                raise CollectionError(
                    f"{full_uri(fs, path)}: malformed split list (expected a JSON list of 'shape_data/<synset>/<model>')"
                )
            for entry in entries:
                synset, model = entry.split("/")[-2:]
                table[(synset, model)] = split
        return table


def read_part_points(ref: ShapeRef | str, **storage_options: Any) -> PartPoints:
    """Points, normals (normal layout only) and integer part labels of one ShapeNetPart shape."""
    uri = ref.uri if isinstance(ref, ShapeRef) else ref
    if uri.endswith(".pts"):
        points = _table(uri, 3, storage_options)
        labels_uri = posixpath.splitext(uri.replace("/points/", "/points_label/"))[0] + ".seg"
        parts = _table(labels_uri, 1, storage_options)[:, 0]
        if len(parts) != len(points):
            raise CollectionError(f"{labels_uri}: {len(parts)} part labels for {len(points)} points in {uri}")
        return PartPoints(points, None, _integers(parts, labels_uri), uri)
    table = _table(uri, 7, storage_options)
    return PartPoints(table[:, :3].copy(), table[:, 3:6].copy(), _integers(table[:, 6], uri), uri)


def _integers(values: np.ndarray, uri: str) -> np.ndarray:
    if not np.array_equal(values, np.round(values)):
        raise CollectionError(f"{uri}: part labels are not integers")
    return values.astype(np.int64)


def _table(uri: str, columns: int, storage_options: dict[str, Any]) -> np.ndarray:
    fs, path = fsspec.core.url_to_fs(uri, **storage_options)
    try:
        data = np.loadtxt(io.StringIO(read_text(fs, path)), dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise CollectionError(f"{uri}: malformed point table ({exc})") from exc
    if data.shape[0] == 0 or data.shape[1] != columns:
        raise CollectionError(f"{uri}: expected rows of {columns} numbers, got an array of shape {data.shape}")
    return data
