"""ModelNet10/40 (Wu et al. 2015) and Manifold40 (Hu et al. 2022): class folders with train/test.

Layout: <class>/<train|test>/<class>_<number>.off (ModelNet) or .obj (Manifold40, the watertight
manifold remeshing of ModelNet40 used by SubdivNet). Label = class folder, split = its sub-folder.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import ClassVar, Iterable

import fsspec

from inrzoo.collections.base import Collection, ShapeRef, full_uri, join, matching_files, register

MODELNET_TERMS = ("ModelNet (Princeton): CAD models gathered from the web, for academic research use only; "
                  "copyrights stay with the original creators (modelnet.cs.princeton.edu)")


@dataclass
class ClassFolderMeshes(Collection):
    """<class>/<split>/<file>.<extension> with the split folders named train and test."""

    extension: ClassVar[str] = "off"
    prefix: ClassVar[str] = "modelnet40"

    def layout_hint(self) -> str:
        return f"expected <class>/train|test/<name>.{self.extension}"

    def scan(self, fs: fsspec.AbstractFileSystem, root: str) -> Iterable[ShapeRef]:
        pattern = re.compile(rf"^([^/]+)/(train|test)/([^/]+)\.{self.extension}$", re.IGNORECASE)
        for rel, _, match in matching_files(fs, root, {"class_folders": pattern}):
            label, split, stem = match.groups()
            meta = {"class": label, "file": posixpath.basename(rel), "license": self.license_note}
            yield ShapeRef(f"{self.prefix}/{label}/{stem}", full_uri(fs, join(root, rel)), label, split.lower(),
                           "mesh", meta)

@register("modelnet40")
@dataclass
class ModelNet40(ClassFolderMeshes):
    title = "ModelNet40"
    license_note = MODELNET_TERMS


@register("modelnet10")
@dataclass
class ModelNet10(ClassFolderMeshes):
    prefix = "modelnet10"
    title = "ModelNet10"
    license_note = MODELNET_TERMS


@register("manifold40")
@dataclass
class Manifold40(ClassFolderMeshes):
    extension = "obj"
    prefix = "manifold40"
    title = "Manifold40"
    license_note = "Manifold40: remeshed from ModelNet40, same terms. " + MODELNET_TERMS
