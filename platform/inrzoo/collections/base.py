"""Shape references, the collection base class and the registry of collections by name.

A collection adapter only *lists* shapes: it walks a layout through fsspec (local folder,
s3://bucket/prefix, memory://...) and returns `ShapeRef`s; loading is the geometry package's job.
Listings are sorted by id so that every worker and every re-run sees the same order.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import csv
import dataclasses
import io
import json
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable, Iterator, List

import fsspec

KINDS = ("mesh", "pointcloud", "voxels")


class CollectionError(ValueError):
    """A collection that cannot be listed; the message names the root or file and the reason."""


@dataclass(frozen=True)
class ShapeRef:
    """One shape of a collection: a stable id, an fsspec URI and what is known about it."""

    id: str
    uri: str
    label: str | None
    split: str | None
    kind: str
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.uri}: kind {self.kind!r} is not one of {KINDS}")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (a row of a Ray dataset, a line of a listing file)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ShapeRef":
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data})


@dataclass
class Collection(ABC):
    """Base of every adapter: a root URI, its storage options and the selections common to all.

    `split` and `labels` keep only the shapes with one of the given values (an unknown value is an
    error, so a typo never yields a silently smaller dataset); `limit` keeps the first N by id.
    """

    # Field annotations say List, not list: resolved in the class namespace (as the config loader
    # does), `list` would be the method below.
    root: str
    storage_options: dict[str, Any] = field(default_factory=dict)
    split: str | List[str] | None = None
    labels: str | List[str] | None = None
    limit: int | None = None
    follow_links: bool = False  # local roots: convert files that symbolic links outside the root lead to

    title: ClassVar[str] = "collection"  # for messages
    license_note: ClassVar[str] = ""  # the source licence(s), for dataset cards

    def list(self) -> list[ShapeRef]:
        fs, root = self.open_root()
        found = sorted(self.scan(fs, root), key=lambda ref: (natural_key(ref.id), ref.id))
        if not found:
            raise CollectionError(f"{self.root}: no {self.title} shapes found ({self.layout_hint()})")
        seen: dict[str, str] = {}
        for ref in found:
            if ref.id in seen:
                raise CollectionError(f"{self.root}: shape id {ref.id!r} is given by both {seen[ref.id]} and {ref.uri}")
            seen[ref.id] = ref.uri
        refs = self._select(self.select(found), "split", as_list(self.split), lambda ref: {ref.split})
        refs = self._select(refs, "label", as_list(self.labels), self.label_keys)
        if not refs:
            raise CollectionError(f"{self.root}: none of the {len(found)} {self.title} shapes passes the selection")
        refs = refs[: self.limit] if self.limit is not None else refs
        from inrzoo.collections.screening import screen_file

        return [screen_file(ref, root, self.follow_links) for ref in refs] if is_local(fs) else refs

    # --- what each adapter provides -------------------------------------------------------
    @abstractmethod
    def scan(self, fs: fsspec.AbstractFileSystem, root: str) -> Iterable[ShapeRef]:
        raise NotImplementedError

    def select(self, refs: list[ShapeRef]) -> list[ShapeRef]:
        """The adapter's own filters (split, labels and limit are applied after them)."""
        return refs

    def layout_hint(self) -> str:
        return "empty folder"

    def label_keys(self, ref: ShapeRef) -> set[str | None]:
        """The names a `labels` selection may use for this shape (adapters add synset ids...)."""
        return {ref.label}

    # --- helpers shared by the adapters ---------------------------------------------------
    def open_root(self) -> tuple[fsspec.AbstractFileSystem, str]:
        fs, path = fsspec.core.url_to_fs(self.root, **self.storage_options)
        if is_local(fs):
            path = posixpath.normpath(path)
        path = path.rstrip("/") or "/"
        if not fs.exists(path):
            raise CollectionError(f"{self.root}: collection root does not exist")
        if not fs.isdir(path):
            raise CollectionError(f"{self.root}: collection root is a file, not a folder")
        return fs, path

    def locate(self, fs: fsspec.AbstractFileSystem, given: str | None, default: str) -> tuple[Any, str | None]:
        """A side file or folder: the given URI (which must exist) or a default path under the root
        (None when it is not there either)."""
        if given is None:
            return fs, default if fs.exists(default) else None
        other, path = fsspec.core.url_to_fs(given, **self.storage_options)
        if not other.exists(path):
            raise CollectionError(f"{given}: does not exist")
        return other, path

    def _select(self, refs: list[ShapeRef], what: str, wanted: list[str] | None, keys) -> list[ShapeRef]:
        if wanted is None:
            return refs
        present = set().union(*(keys(ref) for ref in refs)) - {None}
        unknown = [value for value in wanted if value not in present]
        if unknown:
            raise CollectionError(
                f"{self.root}: no shape has {what} {unknown}; {what}s present: {sorted(present)[:50]}"
            )
        return [ref for ref in refs if keys(ref) & set(wanted)]


def as_list(value: Any) -> list | None:
    """A single value or a sequence as a list; None stays None (no selection)."""
    if value is None:
        return None
    if isinstance(value, (str, int, bool)):
        return [value]
    return list(value)


def is_local(fs: fsspec.AbstractFileSystem) -> bool:
    protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    return "file" in protocols or "local" in protocols


def full_uri(fs: fsspec.AbstractFileSystem, path: str) -> str:
    """A URI fsspec opens again: plain absolute paths for local files, protocol kept otherwise."""
    return path if is_local(fs) else fs.unstrip_protocol(path)


def relative_files(fs: fsspec.AbstractFileSystem, root: str) -> list[str]:
    """Every file below root as a sorted path relative to root (one recursive listing)."""
    prefix = root.rstrip("/") + "/"
    found = fs.find(root, withdirs=False, detail=False)
    # Object stores may show folders as zero-byte keys ending in '/'; they are not files.
    return sorted(p[len(prefix):] for p in found if p.startswith(prefix) and not p.endswith("/"))


def matching_files(fs: fsspec.AbstractFileSystem, root: str,
                   layouts: dict[str, re.Pattern]) -> Iterator[tuple[str, str, re.Match]]:
    """(relative path, layout name, match) for each file below root that one of the layouts matches."""
    for rel in relative_files(fs, root):
        for layout, pattern in layouts.items():
            match = pattern.match(rel)
            if match is not None:
                yield rel, layout, match
                break


def join(root: str, rel: str) -> str:
    return posixpath.join(root, rel) if rel else root


def read_text(fs: fsspec.AbstractFileSystem, path: str) -> str:
    try:
        with fs.open(path, "rb") as handle:
            data = handle.read()
    except (OSError, ValueError) as exc:
        raise CollectionError(f"{full_uri(fs, path)}: cannot read ({exc})") from exc
    # Metadata scraped from the web has the odd mis-encoded character; do not fail a listing on it.
    return data.decode("utf-8-sig", errors="replace")


def read_csv(fs: fsspec.AbstractFileSystem, path: str, required: Iterable[str]) -> list[dict[str, str]]:
    """Rows of a CSV with a header; missing columns and ragged rows name the file and line."""
    uri = full_uri(fs, path)
    reader = csv.reader(io.StringIO(read_text(fs, path)))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise CollectionError(f"{uri}: malformed CSV (empty file, no header)") from None
    except csv.Error as exc:
        raise CollectionError(f"{uri}: malformed CSV ({exc})") from exc
    missing = [name for name in required if name not in header]
    if missing:
        raise CollectionError(f"{uri}: malformed CSV (missing column(s) {missing}; header is {header})")
    rows = []
    try:
        for values in reader:
            if not values or not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                raise CollectionError(
                    f"{uri}: malformed CSV (line {reader.line_num} has {len(values)} fields, "
                    f"the header has {len(header)})"
                )
            rows.append({name: value.strip() for name, value in zip(header, values)})
    except csv.Error as exc:
        raise CollectionError(f"{uri}: malformed CSV (line {reader.line_num}: {exc})") from exc
    return rows


def read_json(fs: fsspec.AbstractFileSystem, path: str) -> Any:
    try:
        return json.loads(read_text(fs, path))
    except json.JSONDecodeError as exc:
        raise CollectionError(f"{full_uri(fs, path)}: malformed JSON ({exc})") from exc


def natural_key(text: str) -> list:
    """Sort key that orders 'x_2' before 'x_10' (used where files carry numbers)."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


REGISTRY: dict[str, type[Collection]] = {}


def register(name: str):
    """Class decorator: make an adapter available as `get(name, root, ...)`."""

    def add(cls: type[Collection]) -> type[Collection]:
        if name in REGISTRY and REGISTRY[name] is not cls:
            raise ValueError(f"collection name {name!r} is already registered by {REGISTRY[name].__name__}")
        REGISTRY[name] = cls
        return cls

    return add


def get(name: str, root: str, **options: Any) -> Collection:
    """Build the adapter registered as `name`; options are checked against its typed fields."""
    from inrzoo.config import ConfigError, from_dict

    if name not in REGISTRY:
        raise CollectionError(f"unknown collection {name!r}; known: {sorted(REGISTRY)}")
    try:
        return from_dict(REGISTRY[name], {"root": root, **options}, source=f"collection {name!r}")
    except ConfigError as exc:
        raise CollectionError(str(exc)) from exc
