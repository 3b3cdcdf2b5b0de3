"""Any folder or bucket of meshes, point clouds or voxel grids.

Files are chosen by glob patterns relative to the root ("**/*.stl"; by default every file with a
known extension). The kind comes from the extension: meshes .stl .obj .off .ply .glb .wrl, point
clouds .xyz .npy .npz, voxel grids .binvox; a .ply with no faces is a point cloud (a header
check, or the `ply` option), a .npy is a point cloud unless `npy="voxels"`.
Labels and splits come either from an index file (CSV with a `file` column, or JSON: a list of
objects with `file`, or a mapping file -> label or file -> object) that then defines the
collection, or from the path: label = parent folder, split = a folder named train/val/test.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, List, Literal

import fsspec

from inrzoo.collections.base import (
    KINDS,
    Collection,
    CollectionError,
    ShapeRef,
    as_list,
    full_uri,
    is_local,
    join,
    read_csv,
    read_json,
    register,
    relative_files,
)
from inrzoo.collections.screening import LISTING_ERROR, failed_ref, file_problem

# The formats inrzoo.geometry.load reads.
EXTENSION_KINDS = {"stl": "mesh", "obj": "mesh", "off": "mesh", "ply": "mesh", "glb": "mesh", "wrl": "mesh",
                   "xyz": "pointcloud", "npy": "pointcloud", "npz": "pointcloud", "binvox": "voxels"}
SPLIT_FOLDERS = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}
DEMO_ROOT = Path(__file__).resolve().parents[1] / "data" / "demo"


@register("folder")
@dataclass
class Folder(Collection):
    patterns: str | List[str] | None = None  # globs relative to the root; None: every known extension
    index: str | None = None  # CSV/JSON file, relative to the root or a full URI
    label_column: str = "label"  # the index column (or JSON key) that holds the label
    label_from: Literal["parent", "none"] = "parent"  # without an index
    kind: Literal["mesh", "pointcloud", "voxels"] | None = None  # force one kind for every file
    kinds: str | List[str] | None = None  # keep only these kinds
    ply: Literal["auto", "mesh", "pointcloud"] = "auto"
    npy: Literal["pointcloud", "voxels"] = "pointcloud"
    prefix: str = "folder"  # ids are "<prefix>/<path relative to the root>"
    license: str | None = None  # licence of the whole folder, unless the index has a license column

    title = "folder"
    license_note = "as declared by the folder's owner (the `license` option or an index column)"

    def layout_hint(self) -> str:
        return f"patterns {as_list(self.patterns) or 'of known extensions ' + str(sorted(EXTENSION_KINDS))}"

    def scan(self, fs: fsspec.AbstractFileSystem, root: str) -> Iterable[ShapeRef]:
        files = [rel for rel in relative_files(fs, root) if self._wanted(rel)]
        entries = self._index(fs, root, set(files)) if self.index else {rel: {} for rel in files}
        keep = as_list(self.kinds)
        for rel in sorted(entries):
            entry = dict(entries[rel])
            problem = entry.pop(LISTING_ERROR, None)
            if problem is None and is_local(fs):  # before any header is read: a FIFO would block
                problem = file_problem(join(root, rel), root, self.follow_links)
            try:
                kind = entry.pop("kind", None) or self.kind or (None if problem else self._kind(fs, join(root, rel)))
            except (CollectionError, OSError, ValueError) as exc:  # one unreadable file: one failed row
                kind, problem = None, str(exc)
            kind = kind or (EXTENSION_KINDS.get(_extension(rel), "mesh") if problem else None)
            if kind is None or (keep is not None and kind not in keep):
                continue
            if kind not in KINDS:
                raise CollectionError(f"{self.root}: {rel} has kind {kind!r}, not one of {KINDS}")
            label, split = self._path_label_split(rel)
            if self.index:
                label, split = entry.pop(self.label_column, None), entry.pop("split", None)
            meta = {"file": rel, "format": _extension(rel), "license": entry.pop("license", None) or self.license,
                    **entry}
            ref = ShapeRef(f"{self.prefix}/{rel}", full_uri(fs, join(root, rel)), _text(label), _text(split), kind, meta)
            yield failed_ref(ref, problem.removeprefix(f"{ref.uri}: ")) if problem else ref

    def _wanted(self, rel: str) -> bool:
        patterns = as_list(self.patterns)
        if patterns is None:
            return _extension(rel) in EXTENSION_KINDS
        return any(glob_regex(p).match(rel) for p in patterns)

    def _kind(self, fs: fsspec.AbstractFileSystem, path: str) -> str | None:
        extension = _extension(path)
        if extension == "ply" and self.ply != "auto":
            return self.ply
        if extension == "ply":
            return "mesh" if ply_face_count(fs, path) > 0 else "pointcloud"
        if extension == "npy":
            return self.npy
        return EXTENSION_KINDS.get(extension)

    def _path_label_split(self, rel: str) -> tuple[str | None, str | None]:
        folders = rel.split("/")[:-1]
        split = next((SPLIT_FOLDERS[f.lower()] for f in reversed(folders) if f.lower() in SPLIT_FOLDERS), None)
        classes = [f for f in folders if f.lower() not in SPLIT_FOLDERS]
        label = classes[-1] if classes and self.label_from == "parent" else None
        return label, split

    def _index(self, fs: fsspec.AbstractFileSystem, root: str, files: set[str]) -> dict[str, dict[str, Any]]:
        """The index's entries by relative path; each must name a file the patterns matched."""
        if "://" in self.index:
            index_fs, index_path = self.locate(fs, self.index, "")
        else:  # relative to the root (an absolute local path stays absolute)
            index_fs, index_path = fs, join(root, self.index)
            if not fs.isfile(index_path):
                raise CollectionError(f"{full_uri(fs, index_path)}: index file does not exist")
        uri = full_uri(index_fs, index_path)
        if index_path.lower().endswith(".csv"):
            rows = read_csv(index_fs, index_path, [])
            records = [(row.pop("file", None) or row.pop("path", None), row) for row in rows]
        elif index_path.lower().endswith(".json"):
            records = _json_records(read_json(index_fs, index_path), uri, self.label_column)
        else:
            raise CollectionError(f"{uri}: index must be a .csv or .json file")
        entries: dict[str, dict[str, Any]] = {}
        for name, record in records:
            if not name:
                raise CollectionError(f"{uri}: malformed index (an entry has no 'file' (or 'path') field)")
            rel = posixpath.normpath(str(name).strip()).lstrip("/")
            if rel in entries:
                raise CollectionError(f"{uri}: malformed index ({rel} is listed twice)")
            entries[rel] = {k: v for k, v in record.items() if v not in (None, "")}
            if rel not in files:  # a listed file that is missing is one failed row, not a failed listing
                entries[rel][LISTING_ERROR] = f"listed in {uri} but not a matching file under {self.root}"
        return entries


def _json_records(data: Any, uri: str, label_column: str) -> list[tuple[Any, dict[str, Any]]]:
    if isinstance(data, dict):  # file -> label, or file -> {label, split, ...}
        return [(name, dict(value) if isinstance(value, dict) else {label_column: value}) for name, value in data.items()]
    if isinstance(data, list) and all(isinstance(item, dict) for item in data):
        return [(item.get("file", item.get("path")), {k: v for k, v in item.items() if k not in ("file", "path")})
                for item in data]
    raise CollectionError(f"{uri}: malformed index (expected a list of objects or a mapping file -> label)")


def ply_face_count(fs: fsspec.AbstractFileSystem, path: str) -> int:
    """Faces declared in a PLY header (0 for a point cloud), reading only the header."""
    with fs.open(path, "rb") as handle:
        head = handle.read(65536)
    end = head.find(b"end_header")
    if not head.startswith(b"ply") or end < 0:
        raise CollectionError(f"{full_uri(fs, path)}: not a PLY file (no 'ply' ... 'end_header' header)")
    for line in head[:end].decode("ascii", errors="replace").splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[0] == "element" and fields[1] in ("face", "tristrips"):
            return int(fields[2]) if fields[2].isdigit() else 0
    return 0


def glob_regex(pattern: str) -> re.Pattern:
    """A glob over relative paths: '*' and '?' stay inside one folder, '**/' spans any number."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(f"^{out}$")


def demo(**options: Any) -> Folder:
    """The bundled demo collection (a few small CC0 / public-domain meshes with labels and splits)."""
    return Folder(root=str(DEMO_ROOT), index="index.csv", prefix="demo", **options)


def _extension(path: str) -> str:
    return posixpath.splitext(path)[1][1:].lower()


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
