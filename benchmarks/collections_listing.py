"""Listing cost of the collection adapters at dataset scale, as a ratio to the bare recursive
listing (`fs.find`) of the same tree, which is the floor: one listing call is all an adapter
needs on an object store. Trees are Thingi10K (raw_meshes + geometry_data.csv, filtered on
`closed`) and ShapeNetCore v2 (two files per model) made of 1-byte stand-ins on memory://.

    .venv/bin/python benchmarks/collections_listing.py --shapes 10000
"""

from __future__ import annotations

import argparse
import time
import uuid

import fsspec

from inrzoo.collections import get

GEOMETRY_HEADER = ("file_id,num_vertices,num_faces,num_connected_components,num_boundary_edges,euler_characteristic,"
                   "num_self_intersections,vertex_manifold,edge_manifold,oriented,PWN,solid")


def build(fs: fsspec.AbstractFileSystem, root: str, shapes: int) -> None:
    rows = [GEOMETRY_HEADER]
    for i in range(shapes):
        file_id = 100000 + i
        fs.pipe(f"{root}/thingi10k/raw_meshes/{file_id}.stl", b"x")
        rows.append(f"{file_id},{i},{2 * i},1,{i % 3},2,0,1,1,1,1,1")
        model = f"{root}/shapenet/{2691156 + i % 55:08d}/{uuid.UUID(int=i).hex}/models"
        fs.pipe(f"{model}/model_normalized.obj", b"x")
        fs.pipe(f"{model}/model_normalized.json", b"x")
    fs.pipe(f"{root}/thingi10k/metadata/geometry_data.csv", "\n".join(rows).encode())


def seconds(call) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", type=int, default=10000)
    args = parser.parse_args()
    fs = fsspec.filesystem("memory")
    root = f"/bench-{uuid.uuid4().hex}"
    build(fs, root, args.shapes)  # in this process's memory only: gone when it exits
    print(f"{'collection':<10} {'refs':>7} {'find s':>7} {'list s':>7} {'list/find':>9} {'us/ref':>7}")
    for name, options in [("thingi10k", {"closed": True}), ("shapenet", {})]:
        floor, _ = seconds(lambda: fs.find(f"{root}/{name}"))
        took, refs = seconds(lambda: get(name, f"memory://{root}/{name}", **options).list())
        print(f"{name:<10} {len(refs):>7} {floor:>7.2f} {took:>7.2f} {took / floor:>9.2f} "
              f"{1e6 * took / len(refs):>7.0f}")


if __name__ == "__main__":
    main()
