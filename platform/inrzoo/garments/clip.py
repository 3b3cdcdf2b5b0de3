"""Cut a triangle mesh along the zero set of a scalar function: the open edges of a garment.

Each triangle keeps its part where the region value g >= 0; a triangle crossed by g = 0 is split
along the segment found by linear interpolation of g on its edges, so hems, necklines and sleeve
ends are straight cuts rather than stair steps. New vertices are shared through their edge, so
the cut mesh stays connected.

A vertex closer to the cut than SNAP of the median edge length counts as on it (g = 0, kept), and
the cut passes through it: cut points on its edges are the vertex itself, and triangles that then
repeat a vertex are dropped. Without it, a vertex where g is 0 (or nearly) gave a cut point on top
of it (a triangle with a collapsed edge, zero area) or beside it (a sliver, or a cap whose three
corners lie on one line), which a cloth simulation cannot take: its rest shape is not invertible.
"""

from __future__ import annotations

import numpy as np

SNAP = 0.01  # of the median edge (chosen): moves the cut by at most ~0.3 mm at the 3 cm physics spacing


def _edge_points(vertices: np.ndarray, g: np.ndarray, a: np.ndarray, b: np.ndarray,
                 cache: dict[tuple[int, int], int], extra: list[np.ndarray]) -> np.ndarray:
    """Index of the point where g = 0 on each edge (a, b), created once per edge."""
    out = np.empty(len(a), dtype=np.int64)
    for n, (i, j) in enumerate(zip(a.tolist(), b.tolist())):
        key = (i, j) if i < j else (j, i)
        index = cache.get(key)
        if index is None:
            if g[i] == 0 or g[j] == 0:  # the cut passes through that end
                index = i if g[i] == 0 else j
            else:
                w = g[i] / (g[i] - g[j])
                extra.append(vertices[i] + w * (vertices[j] - vertices[i]))
                index = len(vertices) + len(extra) - 1
            cache[key] = index
        out[n] = index
    return out


def clip_mesh(vertices: np.ndarray, faces: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The part of the mesh where g >= 0 (g given per vertex); unused vertices are dropped."""
    g = np.asarray(g, dtype=np.float64).copy()
    edges = vertices[faces] - vertices[np.roll(faces, 1, axis=1)]
    g[np.abs(g) < SNAP * np.median(np.linalg.norm(edges, axis=-1))] = 0.0  # g is a length (unit gradient)
    inside = g[faces] >= 0
    count = inside.sum(axis=1)
    kept = [faces[count == 3]]
    cache: dict[tuple[int, int], int] = {}
    extra: list[np.ndarray] = []
    for n_in in (1, 2):
        tri = faces[count == n_in]
        if not len(tri):
            continue
        flags = inside[count == n_in]
        # Rotate each triangle so that its odd-one-out vertex comes first (keeps orientation).
        odd = np.argmax(flags if n_in == 1 else ~flags, axis=1)
        order = (odd[:, None] + np.arange(3)[None, :]) % 3
        tri = np.take_along_axis(tri, order, axis=1)
        p, q, r = tri[:, 0], tri[:, 1], tri[:, 2]
        pq = _edge_points(vertices, g, p, q, cache, extra)
        pr = _edge_points(vertices, g, p, r, cache, extra)
        if n_in == 1:  # p inside: one triangle p, pq, pr
            kept.append(np.stack([p, pq, pr], axis=1))
        else:  # q, r inside: the quad pq, q, r, pr as two triangles
            kept.append(np.stack([pq, q, r], axis=1))
            kept.append(np.stack([pq, r, pr], axis=1))
    all_vertices = np.concatenate([vertices, np.array(extra).reshape(-1, 3)]) if extra else vertices
    new_faces = np.concatenate(kept).astype(np.int64)
    distinct = (new_faces[:, 0] != new_faces[:, 1]) & (new_faces[:, 1] != new_faces[:, 2]) & (new_faces[:, 2] != new_faces[:, 0])
    return compact(all_vertices, new_faces[distinct])


def compact(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop vertices no face uses and renumber the faces."""
    used, inverse = np.unique(faces.reshape(-1), return_inverse=True)
    return vertices[used], inverse.reshape(-1, 3).astype(np.int64)


def largest_component(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The connected piece (through shared vertices) with the most faces."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(vertices)
    rows = np.concatenate([faces[:, 0], faces[:, 1], faces[:, 2]])
    cols = np.concatenate([faces[:, 1], faces[:, 2], faces[:, 0]])
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    face_labels = labels[faces[:, 0]]
    biggest = np.bincount(face_labels).argmax()
    return compact(vertices, faces[face_labels == biggest])
