"""KiCad's 3D packages (Debian `kicad-packages3d`, github.com/KiCad/kicad-packages3D): labeled CAD
models of electronic parts, one library folder per class.

Layout: <Library>.3dshapes/<part>.wrl (the package installs them under
/usr/share/kicad/3dmodels; each part also ships as .step, which inrzoo does not read).
Label = the library name without `.3dshapes` (Capacitor_THT.3dshapes -> Capacitor_THT).
Coordinates are in KiCad's VRML unit, 0.1 inch (2.54 mm); normalization makes the unit moot.

A split file (JSON, relative to the root or a full URI) fixes the parts and their splits:
`{"parts": [{"file": "<Library>.3dshapes/<part>.wrl", "split": "train|val|test", "sha256": ...}]}`;
only the listed parts are kept, each listed file must exist, and its sha256 is kept in the meta
so that a consumer can check that it converts the very bytes the split was made from.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any, Iterable

import fsspec

from inrzoo.collections.base import (
    Collection,
    CollectionError,
    ShapeRef,
    full_uri,
    join,
    matching_files,
    read_json,
    register,
)

KICAD_LICENSE = ("CC-BY-SA-4.0 with the KiCad libraries exception "
                 "(github.com/KiCad/kicad-packages3D/blob/master/LICENSE.md)")
SPLITS = ("train", "val", "test")
_PART = re.compile(r"^([^/]+)\.3dshapes/([^/]+)\.wrl$", re.IGNORECASE)


@register("kicad")
@dataclass
class KiCadPackages3D(Collection):
    split_file: str | None = None  # JSON of parts with their split (and sha256), see the module doc

    title = "KiCad 3D package"
    license_note = KICAD_LICENSE

    def layout_hint(self) -> str:
        return "expected <Library>.3dshapes/<part>.wrl"

    def scan(self, fs: fsspec.AbstractFileSystem, root: str) -> Iterable[ShapeRef]:
        listed = self._split_entries(fs, root) if self.split_file else None
        found = set()
        for rel, _, match in matching_files(fs, root, {"library": _PART}):
            if listed is not None and rel not in listed:
                continue
            found.add(rel)
            library, part = match.groups()
            entry = listed.get(rel, {}) if listed is not None else {}
            meta = {"library": library, "file": rel, "format": "wrl", "license": KICAD_LICENSE}
            if "sha256" in entry:
                meta["sha256"] = entry["sha256"]
            yield ShapeRef(part_id(library, part), full_uri(fs, join(root, rel)), library, entry.get("split"),
                           "mesh", meta)
        missing = sorted(set(listed or ()) - found)
        if missing:
            raise CollectionError(f"{self.split_file}: {len(missing)} listed part(s) are not under {self.root}, "
                                  f"e.g. {missing[:3]}")

    def _split_entries(self, fs: fsspec.AbstractFileSystem, root: str) -> dict[str, dict[str, Any]]:
        if "://" in self.split_file or posixpath.isabs(self.split_file):
            split_fs, path = self.locate(fs, self.split_file, "")
        else:
            split_fs, path = fs, join(root, self.split_file)
            if not fs.isfile(path):
                raise CollectionError(f"{full_uri(fs, path)}: split file does not exist")
        uri = full_uri(split_fs, path)
        data = read_json(split_fs, path)
        parts = data.get("parts") if isinstance(data, dict) else None
        if not isinstance(parts, list) or not all(isinstance(p, dict) for p in parts):
            raise CollectionError(f"{uri}: malformed split file (expected {{\"parts\": [{{\"file\": ..., "
                                  f"\"split\": ...}}, ...]}})")
        entries: dict[str, dict[str, Any]] = {}
        for number, part in enumerate(parts):
            rel, split = part.get("file"), part.get("split")
            if not isinstance(rel, str) or not _PART.match(rel):
                raise CollectionError(f"{uri}: part {number} has file {rel!r}, not <Library>.3dshapes/<part>.wrl")
            if split not in SPLITS:
                raise CollectionError(f"{uri}: part {rel} has split {split!r}, not one of {SPLITS}")
            if rel in entries:
                raise CollectionError(f"{uri}: part {rel} is listed twice")
            entries[rel] = part
        return entries


def part_id(library: str, part: str) -> str:
    return f"kicad/{library}/{part}"
