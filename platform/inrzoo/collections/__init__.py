"""Shape collections: adapters that list the shapes of a dataset layout as `ShapeRef`s.

    from inrzoo.collections import get
    refs = get("thingi10k", "s3://bucket/Thingi10K", closed=True, max_facets=20_000).list()

Every adapter reads through fsspec (`storage_options` go to the filesystem), lists in a stable
order with unique ids, and is registered by name in `REGISTRY`: thingi10k, shapenet,
modelnet10, modelnet40, manifold40, shapenetpart, kicad, folder.
"""

from inrzoo.collections.base import KINDS, REGISTRY, Collection, CollectionError, ShapeRef, get, register
from inrzoo.collections.folder import DEMO_ROOT, Folder, demo
from inrzoo.collections.kicad import KiCadPackages3D
from inrzoo.collections.modelnet import Manifold40, ModelNet10, ModelNet40
from inrzoo.collections.shapenet import ShapeNetCore
from inrzoo.collections.shapenetpart import PartPoints, ShapeNetPart, read_part_points
from inrzoo.collections.thingi10k import Thingi10K

__all__ = [
    "KINDS", "REGISTRY", "Collection", "CollectionError", "ShapeRef", "get", "register", "DEMO_ROOT", "Folder",
    "demo", "KiCadPackages3D", "Manifold40", "ModelNet10", "ModelNet40", "ShapeNetCore", "PartPoints", "ShapeNetPart",
    "read_part_points", "Thingi10K",
]
