"""Mesh checks shared by the tests of generated garments and of MeshUDF."""

from __future__ import annotations

import numpy as np


def boundary_loops(faces: np.ndarray) -> int:
    """Connected components of the edges used by one face only (the openings of a garment)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    edges = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    unique, counts = np.unique(edges, axis=0, return_counts=True)
    border = unique[counts == 1]
    if not len(border):
        return 0
    nodes, index = np.unique(border, return_inverse=True)
    index = index.reshape(-1, 2)
    graph = coo_matrix((np.ones(len(index)), (index[:, 0], index[:, 1])), shape=(len(nodes), len(nodes)))
    return int(connected_components(graph, directed=False)[0])
