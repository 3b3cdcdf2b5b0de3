"""Thingi10K (Zhou & Jacobson 2016): raw_meshes/<file_id>.<ext> plus the metadata CSVs.

Fields and filters follow the `thingi10k` package's `dataset()` (same names, same meaning:
exact ids and authors, case-insensitive regular expressions for licence/category/name/tags,
inclusive (min, max) ranges for counts, booleans derived from geometry_data.csv the way the
package derives them), so a selection written for one works for the other. The metadata
(metadata/input_summary.csv, geometry_data.csv, contextual_data.csv, tag_data.csv) is optional:
without it shapes are listed by file id only, and a filter that needs it is an error.
"""

from __future__ import annotations

import html
import posixpath
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, List

import fsspec

from inrzoo.collections.base import (
    Collection,
    CollectionError,
    ShapeRef,
    as_list,
    full_uri,
    join,
    read_csv,
    register,
    relative_files,
)

# Files the thingi10k package leaves out because they are corrupt.
CORRUPT_FILE_IDS = frozenset({49911, 74463, 286163, 77942})
MESH_NAME = re.compile(r"^(\d+)\.([A-Za-z0-9]+)$")
Range = int | tuple[int | None, int | None] | None


@register("thingi10k")
@dataclass
class Thingi10K(Collection):
    metadata: str | None = None  # folder with the CSVs; default <root>/metadata
    label_field: str = "category"
    skip_corrupt: bool = True
    file_id: int | List[int] | None = None
    thing_id: int | List[int] | None = None
    author: str | List[str] | None = None
    license: str | List[str] | None = None
    category: str | List[str] | None = None
    subcategory: str | List[str] | None = None
    name: str | List[str] | None = None
    tags: str | List[str] | None = None
    num_vertices: Range = None
    num_facets: Range = None
    max_facets: int | None = None
    num_components: Range = None
    num_boundary_edges: Range = None
    euler: Range = None
    genus: Range = None
    closed: bool | None = None
    self_intersecting: bool | None = None
    manifold: bool | None = None
    vertex_manifold: bool | None = None
    edge_manifold: bool | None = None
    oriented: bool | None = None
    pwn: bool | None = None
    solid: bool | None = None

    title = "Thingi10K"
    license_note = "per model: the Thingiverse licence its author chose (meta['license'], from the metadata CSVs)"

    def layout_hint(self) -> str:
        return "expected raw_meshes/<file_id>.<ext>"

    def scan(self, fs: fsspec.AbstractFileSystem, root: str) -> Iterable[ShapeRef]:
        files = self._mesh_files(fs, root)
        table = self._metadata(fs, root)
        if table is None and self._tests():
            raise CollectionError(
                f"{self.root}: these filters need the Thingi10K metadata CSVs (input_summary.csv or "
                f"geometry_data.csv in {self.metadata or 'metadata/'}), which are not there"
            )
        for file_id, path in files.items():
            if self.skip_corrupt and file_id in CORRUPT_FILE_IDS:
                continue
            meta = dict((table or {}).get(file_id, {}))
            meta.update(file_id=file_id, format=posixpath.splitext(path)[1][1:].lower())
            meta.setdefault("license", None)
            label = meta.get(self.label_field)
            yield ShapeRef(f"thingi10k/{file_id}", full_uri(fs, path), None if label is None else str(label),
                           None, "mesh", meta)

    def select(self, refs: list[ShapeRef]) -> list[ShapeRef]:
        ids = set(as_list(self.file_id) or ())
        tests = self._tests()  # a shape without a metadata row fails every one of them
        return [ref for ref in refs if (not ids or ref.meta["file_id"] in ids) and all(t(ref.meta) for t in tests)]

    def _mesh_files(self, fs: fsspec.AbstractFileSystem, root: str) -> dict[int, str]:
        folder = join(root, "raw_meshes")
        if not fs.isdir(folder):
            folder = root  # the root may be the raw_meshes folder itself
        files: dict[int, str] = {}
        for rel in relative_files(fs, folder):
            match = MESH_NAME.match(rel)
            if match:
                file_id = int(match.group(1))
                if file_id in files:
                    raise CollectionError(f"{self.root}: file id {file_id} has two meshes: {files[file_id]}, {rel}")
                files[file_id] = join(folder, rel)
        return files

    def _metadata(self, fs: fsspec.AbstractFileSystem, root: str) -> dict[int, dict[str, Any]] | None:
        """Per file id, the fields the thingi10k package exposes; None when no CSV is there."""
        fs, folder = self.locate(fs, self.metadata, join(root, "metadata"))
        if folder is None:
            return None
        paths = {n: join(folder, f"{n}.csv") for n in ("input_summary", "geometry_data", "contextual_data", "tag_data")}
        present = {n: p for n, p in paths.items() if fs.isfile(p)}
        if not present.keys() & {"input_summary", "geometry_data"}:
            return None
        table: dict[int, dict[str, Any]] = {}
        if "geometry_data" in present:
            for row in read_csv(fs, present["geometry_data"], GEOMETRY_COLUMNS):
                number = _ints(row, GEOMETRY_COLUMNS, full_uri(fs, present["geometry_data"]))
                table.setdefault(number["file_id"], {}).update(_geometry_fields(number))
        things: dict[int, dict[str, Any]] = {}
        if "contextual_data" in present:
            for row in read_csv(fs, present["contextual_data"], CONTEXT_COLUMNS):
                thing = _ints(row, ["Thing ID"], full_uri(fs, present["contextual_data"]))["Thing ID"]
                things[thing] = _context_fields(row)
        if "tag_data" in present:
            for row in read_csv(fs, present["tag_data"], ["Thing ID", "Tag"]):
                thing = _ints(row, ["Thing ID"], full_uri(fs, present["tag_data"]))["Thing ID"]
                things.setdefault(thing, {}).setdefault("tags", []).append(row["Tag"])
        if "input_summary" in present:
            uri = full_uri(fs, present["input_summary"])
            for row in read_csv(fs, present["input_summary"], ["ID", "Thing ID", "License"]):
                number = _ints(row, ["ID", "Thing ID"], uri, required=2)
                meta = table.setdefault(number["ID"], {})
                meta.update(thing_id=number["Thing ID"], license=row["License"] or None, link=row.get("Link"))
                for column, key in SUMMARY_FLAGS.items():  # only where geometry_data said nothing
                    if column in row and key not in meta:
                        meta[key] = row[column].upper() == "TRUE"
        for meta in table.values():
            context = things.get(meta.get("thing_id"), {})
            meta.update({k: v for k, v in context.items() if v is not None or k not in meta})
            meta.setdefault("tags", [])
        return table

    def _tests(self) -> list[Callable[[dict[str, Any]], bool]]:
        tests: list[Callable[[dict[str, Any]], bool]] = []
        vertex_manifold, edge_manifold = self.vertex_manifold, self.edge_manifold
        if self.manifold is not None:
            vertex_manifold = edge_manifold = self.manifold
        if self.thing_id is not None:
            tests.append(_one_of("thing_id", as_list(self.thing_id)))
        if self.author is not None:
            tests.append(_one_of("author", as_list(self.author)))
        for key in ("license", "category", "subcategory", "name"):
            if getattr(self, key) is not None:
                tests.append(_regex(key, as_list(getattr(self, key))))
        if self.tags is not None:
            patterns = as_list(self.tags)
            tests.append(lambda m: "tags" in m and any(re.search(p, ",".join(m["tags"]), re.I) for p in patterns))
        facets = _range(self.num_facets)
        if self.max_facets is not None:
            facets = (facets[0], min(v for v in (facets[1], self.max_facets) if v is not None))
        ranges = {"num_vertices": _range(self.num_vertices), "num_facets": facets,
                  "num_components": _range(self.num_components),
                  "num_boundary_edges": _range(self.num_boundary_edges), "euler": _range(self.euler)}
        tests += [_between(key, low, high) for key, (low, high) in ranges.items() if (low, high) != (None, None)]
        if self.genus is not None:
            tests.append(_genus(*_range(self.genus)))
        flags = {"closed": self.closed, "self_intersecting": self.self_intersecting, "oriented": self.oriented,
                 "vertex_manifold": vertex_manifold, "edge_manifold": edge_manifold, "PWN": self.pwn,
                 "solid": self.solid}
        tests += [_one_of(key, [value]) for key, value in flags.items() if value is not None]
        return tests


GEOMETRY_COLUMNS = ["file_id", "num_vertices", "num_faces", "num_connected_components", "num_boundary_edges",
                    "euler_characteristic", "num_self_intersections", "vertex_manifold", "edge_manifold",
                    "oriented", "PWN", "solid"]
CONTEXT_COLUMNS = ["Thing ID", "Date", "Category", "Sub-category", "Name", "Author", "License"]
SUMMARY_FLAGS = {"Closed": "closed", "Edge manifold": "edge_manifold", "Vertex manifold": "vertex_manifold",
                 "PWN": "PWN"}


def _ints(row: dict[str, str], columns: list[str], uri: str, required: int = 1) -> dict[str, Any]:
    """Integer columns; the first `required` ones must be there, later ones may be empty (None)."""
    out: dict[str, Any] = {}
    for index, column in enumerate(columns):
        value = row[column]
        if value.lower() in ("", "nan") and index >= required:
            out[column] = None
            continue
        try:
            out[column] = int(float(value))
        except ValueError:
            raise CollectionError(f"{uri}: malformed CSV (column {column!r} is not a number: {value!r})") from None
    return out


def _geometry_fields(n: dict[str, Any]) -> dict[str, Any]:
    # Same derivations as the thingi10k package's builder; an empty cell stays unknown (None).
    def derived(column: str, test: Callable[[int], bool]) -> bool | None:
        return None if n[column] is None else test(n[column])

    def is_one(column: str) -> bool | None:
        return derived(column, lambda v: v == 1)

    return {"num_vertices": n["num_vertices"], "num_facets": n["num_faces"],
            "num_components": n["num_connected_components"], "num_boundary_edges": n["num_boundary_edges"],
            "closed": derived("num_boundary_edges", lambda v: v == 0),
            "self_intersecting": derived("num_self_intersections", lambda v: v > 0),
            "vertex_manifold": is_one("vertex_manifold"), "edge_manifold": is_one("edge_manifold"),
            "oriented": is_one("oriented"), "PWN": is_one("PWN"), "solid": is_one("solid"),
            "euler": n["euler_characteristic"]}


def _context_fields(row: dict[str, str]) -> dict[str, Any]:
    def text(column: str) -> str | None:
        value = html.unescape(row[column]).strip()
        return None if value in ("", "None", "unknown") else value

    return {"date": text("Date"), "category": text("Category"), "subcategory": text("Sub-category"),
            "name": text("Name"), "author": text("Author"), "license": text("License")}


def _range(value: Range) -> tuple[int | None, int | None]:
    if value is None:
        return (None, None)
    if isinstance(value, int):
        return (value, value)
    low, high = value
    return (low, high)


def _one_of(key: str, values: list) -> Callable[[dict[str, Any]], bool]:
    return lambda meta: meta.get(key) is not None and meta.get(key) in values


def _regex(key: str, patterns: list[str]) -> Callable[[dict[str, Any]], bool]:
    return lambda meta: meta.get(key) is not None and any(re.search(p, meta[key], re.I) for p in patterns)


def _between(key: str, low: int | None, high: int | None) -> Callable[[dict[str, Any]], bool]:
    def test(meta: dict[str, Any]) -> bool:
        value = meta.get(key)
        return value is not None and (low is None or value >= low) and (high is None or value <= high)

    return test


def _genus(low: int | None, high: int | None) -> Callable[[dict[str, Any]], bool]:
    # The genus is only defined (as the package does) for one closed vertex-manifold component.
    def test(meta: dict[str, Any]) -> bool:
        if not (meta.get("num_components") == 1 and meta.get("num_boundary_edges") == 0
                and meta.get("vertex_manifold") and meta.get("euler") is not None and meta["euler"] % 2 == 0):
            return False
        genus = (2 - meta["euler"]) // 2
        return (low is None or genus >= low) and (high is None or genus <= high)

    return test
