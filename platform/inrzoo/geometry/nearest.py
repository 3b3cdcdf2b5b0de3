"""Exact closest points on a triangle mesh through the compiled BVH of nearest_*.c.

The library is built by `pip install` (setup.py, an optional extension: an install without a C
compiler still succeeds). `available()` says whether it loaded; callers fall back to libigl's
AABB otherwise, with the same results, only slower. ctypes releases the GIL during a call, so
queries split into contiguous slices run on several threads.
"""

from __future__ import annotations

import ctypes
import importlib.machinery
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

_DOUBLES = np.ctypeslib.ndpointer(dtype=np.float64, flags="C_CONTIGUOUS")
_INT64 = np.ctypeslib.ndpointer(dtype=np.int64, flags="C_CONTIGUOUS")
# Below this many points per thread, starting threads costs more than it saves.
MIN_POINTS_PER_THREAD = 20_000
# Node and triangle indices are 32-bit in the C tree (2F - 1 nodes must fit).
MAX_FACES = 2**30 - 1


@cache
def _library() -> ctypes.CDLL | None:
    here = Path(__file__).parent
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = here / f"_nearest{suffix}"
        if path.exists():
            break
    else:
        log.warning("compiled closest-point library missing next to %s (built by pip install with a C "
                    "compiler); using libigl's AABB, same results, several times slower", here)
        return None
    lib = ctypes.CDLL(str(path))
    lib.nearest_build.restype = ctypes.c_void_p
    lib.nearest_build.argtypes = [_DOUBLES, _INT64, ctypes.c_int64]
    lib.nearest_free.argtypes = [ctypes.c_void_p]
    lib.nearest_free.restype = None
    pointer_or_null = ctypes.c_void_p  # closest/face outputs are optional
    lib.nearest_query.argtypes = [ctypes.c_void_p, _DOUBLES, ctypes.c_int64, _DOUBLES, pointer_or_null, pointer_or_null]
    lib.nearest_query.restype = None
    lib.nearest_link_anchors.argtypes = [_DOUBLES, _DOUBLES, ctypes.c_int64, ctypes.c_double, ctypes.c_double, _INT64]
    lib.nearest_link_anchors.restype = ctypes.c_int64
    lib.nearest_morton_order.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int64, _INT64]
    lib.nearest_morton_order.restype = ctypes.c_int
    return lib


def available() -> bool:
    """Whether the compiled library loaded."""
    return _library() is not None


def _threads() -> int:
    """Threads for one query: INRZOO_GEOMETRY_THREADS, else OMP_NUM_THREADS (which Ray sets to the
    CPUs it gave a task or actor, so concurrent tasks do not oversubscribe a node), else the CPUs
    this process may use."""
    for name in ("INRZOO_GEOMETRY_THREADS", "OMP_NUM_THREADS"):
        configured = os.environ.get(name, "")
        if configured.isdigit():
            return max(1, int(configured))
    return len(os.sched_getaffinity(0))


def _address(array: np.ndarray | None) -> int | None:
    return None if array is None else array.ctypes.data


class NearestTree:
    """BVH over one mesh's triangles: exact squared distance, closest point and face per query."""

    def __init__(self, vertices: np.ndarray, faces: np.ndarray):
        lib = _library()
        if lib is None:
            raise RuntimeError("the compiled closest-point library is not available")
        self._lib = lib
        vertices = np.ascontiguousarray(vertices, dtype=np.float64)
        faces = np.ascontiguousarray(faces, dtype=np.int64)
        if faces.ndim != 2 or faces.shape[1] != 3 or not len(faces):
            raise ValueError(f"NearestTree needs faces of shape [F>0, 3], got {list(faces.shape)}")
        if faces.min() < 0 or faces.max() >= len(vertices):
            raise ValueError(f"face indices outside [0, {len(vertices)})")
        if not np.isfinite(vertices).all():
            raise ValueError("NearestTree: vertices contain NaN or infinite coordinates")
        if len(faces) > MAX_FACES:
            raise ValueError(f"NearestTree: {len(faces):,} faces, more than the {MAX_FACES:,} it indexes")
        self._handle = lib.nearest_build(vertices, faces, len(faces))
        if not self._handle:
            raise MemoryError(f"NearestTree: out of memory building the tree of {len(faces):,} faces")

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            self._lib.nearest_free(handle)

    def query(self, points: np.ndarray, *, with_closest: bool = True, with_face: bool = False):
        """(squared distance [N], closest point [N,3] or None, face index [N] or None).

        Points in spatial order (blocks.spatial_order) are several times faster: each query
        starts from its predecessor's closest triangle."""
        points = np.ascontiguousarray(points, dtype=np.float64)
        count = len(points)
        squared = np.empty(count, dtype=np.float64)
        closest = np.empty((count, 3), dtype=np.float64) if with_closest else None
        face = np.empty(count, dtype=np.int64) if with_face else None
        threads = min(_threads(), max(1, count // MIN_POINTS_PER_THREAD))
        bounds = np.linspace(0, count, threads + 1).astype(np.int64)

        def run(part: int) -> None:
            start, stop = int(bounds[part]), int(bounds[part + 1])
            self._lib.nearest_query(
                self._handle, points[start:stop], stop - start, squared[start:stop],
                _address(None if closest is None else closest[start:stop]),
                _address(None if face is None else face[start:stop]))

        if threads == 1:
            run(0)
        else:
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(run, range(threads)))
        return squared, closest, face


# Radii shrink by this fraction: float32 distances are within 2^-24 of the exact ones.
RELATIVE_SLACK = 1e-6


def link_anchors(points: np.ndarray, distance: np.ndarray, slack: float) -> np.ndarray:
    """anchor [N]: for each point (in the given order), an earlier point whose surface-free ball
    overlaps its own (itself where none): on a closed mesh both have the same winding number. `slack`
    (a length, on top of RELATIVE_SLACK) absorbs the rounding of the closest-point computation."""
    lib = _library()
    if lib is None:
        raise RuntimeError("the compiled closest-point library is not available")
    points = np.ascontiguousarray(points, dtype=np.float64)
    distance = np.ascontiguousarray(distance, dtype=np.float64)
    anchor = np.empty(len(points), dtype=np.int64)
    lib.nearest_link_anchors(points, distance, len(points), RELATIVE_SLACK, float(slack), anchor)
    return anchor


def morton_order(points: np.ndarray) -> np.ndarray | None:
    """The stable order of the points' Morton keys as blocks.spatial_order defines them, or None
    where the compiled library, or a float32/float64 C-contiguous [N, 3] array under 2^32 points,
    is missing."""
    lib = _library()
    if (lib is None or points.dtype not in (np.float32, np.float64) or not points.flags.c_contiguous
            or points.ndim != 2 or points.shape[1] != 3 or len(points) >= 2**32):
        return None
    order = np.empty(len(points), dtype=np.int64)
    if not lib.nearest_morton_order(points.ctypes.data, int(points.dtype == np.float64), len(points), order):
        raise MemoryError(f"morton_order: out of memory ordering {len(points):,} points")
    return order
