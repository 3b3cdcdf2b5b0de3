"""MeshUDF (Guillard, Stella, Fua, ECCV 2022): open meshes from any unsigned distance field.

A UDF never changes sign, so marching cubes cannot run on it directly. MeshUDF gives the grid
vertices near the surface local pseudo-signs from the UDF gradients, which point away from the
surface: two neighbouring vertices whose gradients agree lie on the same side, two whose
gradients oppose lie on either side of a sheet. Marching cubes then runs on pseudo-sign * u in
the cells near the surface only. As in the authors' code (cvlab-epfl/MeshUDF):
- a cell is processed when the mean of its corner values is < 1.05 h and their max <= 1.74 h
  (h the grid step);
- the grid is explored breadth-first, so pseudo-signs stay consistent from cell to cell; a vertex takes its sign once, from the votes of its already
  signed axis neighbours: sign(neighbour) * vote, vote = dot(g_v, g_n), except +1 when the two
  gradients diverge along the edge (a ridge of the UDF between two sheets: same side);
  vertices left without votes take sign(dot(g_anchor, g)) from a signed (or the first) corner;
- faces whose vertices or edge midpoints have u > h / 2 (the authors' 1/N on [-1, 1]) are
  spurious (a gradient flip without a surface) and are removed; boundary vertices are then
  smoothed by 20 Laplacian steps of 0.3.
Chosen: the search spreads through every processed cell, not only through cells that yield
faces as in the authors' code, whose second pass over low-confidence cells we leave out (without
either, separate seeds met with opposite orientations and left seams of holes, e.g. on an open
cylinder); their one-triangle hole filling is left out too. The grid is filled coarse to fine (stride 2, then 1 inside cells whose corners
come within a cell diagonal of the surface), which never skips a cell the surface crosses.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from .extract import _box, evaluate
from .udf_points import finite_difference_gradient

MEAN_FACTOR = 1.05  # cell test: mean corner UDF < 1.05 h
MAX_FACTOR = 1.74  # and max corner UDF <= 1.74 h (just above the cell diagonal, sqrt(3) h)
CORNERS = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]])


def _fill_grid(f, n: int, low: np.ndarray, step: np.ndarray, batch_size: int) -> np.ndarray:
    """u on the n^3 grid; +inf where a coarse pass shows the surface cannot be near."""
    values = np.full((n, n, n), np.inf, dtype=np.float32)

    def fill(index: np.ndarray) -> None:
        for start in range(0, len(index), batch_size):
            chunk = index[start:start + batch_size]
            values[chunk[:, 0], chunk[:, 1], chunk[:, 2]] = evaluate(f, (low + chunk * step).astype(np.float32))

    if (n - 1) % 2:
        fill(np.argwhere(np.ones((n, n, n), dtype=bool)))
        return values
    coarse = np.arange(0, n, 2)
    fill(np.stack(np.meshgrid(coarse, coarse, coarse, indexing="ij"), axis=-1).reshape(-1, 3))
    grid = values[::2, ::2, ::2]
    corners_min = np.min([grid[a:a + grid.shape[0] - 1, b:b + grid.shape[1] - 1, c:c + grid.shape[2] - 1]
                          for a, b, c in CORNERS], axis=0)
    # A surface crossing a coarse cell lies within its diagonal of every corner.
    near = np.argwhere(corners_min < 1.1 * np.sqrt(3) * 2 * step.max())
    wanted = np.zeros((n, n, n), dtype=bool)
    for offset in np.stack(np.meshgrid(*[np.arange(3)] * 3, indexing="ij"), axis=-1).reshape(-1, 3):
        target = 2 * near + offset
        wanted[target[:, 0], target[:, 1], target[:, 2]] = True
    wanted[::2, ::2, ::2] = False
    fill(np.argwhere(wanted))
    return values


def _edge_vote(g_v: np.ndarray, g_n: np.ndarray, axis: int, direction: int) -> float:
    """How strongly neighbour n says v shares its side (signed); +1 across a UDF ridge."""
    if direction * g_v[axis] > 0 and direction * g_n[axis] < 0:
        return 1.0
    return float(g_v @ g_n)


def pseudo_signs(u: np.ndarray, grads: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Breadth-first pseudo-signs. Returns (signs int8 [n,n,n], cells that yielded faces bool [n-1]^3)."""
    n = u.shape[0]
    sign = np.zeros(u.shape, dtype=np.int8)
    signed = np.zeros(u.shape, dtype=bool)
    visited = np.zeros(active.shape, dtype=bool)
    faces = np.zeros(active.shape, dtype=bool)
    steps = [(axis, d) for axis in range(3) for d in (1, -1)]

    def vote(v: tuple[int, int, int]) -> float | None:
        total, voters = 0.0, 0
        for axis, d in steps:
            w = list(v)
            w[axis] += d
            while 0 <= w[axis] < n and u[tuple(w)] == 0.0 and abs(w[axis] - v[axis]) < 3:
                w[axis] += d  # a vertex on the surface has no gradient: look one further
            if not 0 <= w[axis] < n or sign[tuple(w)] == 0:
                continue
            total += sign[tuple(w)] * _edge_vote(grads[v], grads[tuple(w)], axis, d)
            voters += 1
        return total if voters else None

    def process(cell: tuple[int, int, int]) -> bool:
        visited[cell] = True
        corners = [tuple(int(c) for c in np.add(cell, offset)) for offset in CORNERS]
        unvoted = []
        for v in corners:
            if signed[v] or u[v] == 0.0:
                continue
            total = vote(v)
            if total is None:
                unvoted.append(v)
            else:
                sign[v] = np.sign(total)
        if unvoted:
            anchors = [v for v in corners if signed[v] and grads[v].any()] or [v for v in corners if grads[v].any()]
            if anchors:
                base = grads[anchors[0]] * (sign[anchors[0]] if signed[anchors[0]] else 1)
                for v in unvoted:
                    sign[v] = np.sign(base @ grads[v])
        values = [sign[v] * u[v] for v in corners]
        for v in corners:
            signed[v] = True
        faces[cell] = max(values) > 0 and min(values) <= 0
        return bool(faces[cell])

    for start in map(tuple, np.argwhere(active)):
        if visited[start]:
            continue
        process(start)
        queue = deque([start])
        while queue:
            cell = queue.popleft()
            for axis, d in steps:
                nxt = list(cell)
                nxt[axis] += d
                nxt = tuple(nxt)
                if 0 <= nxt[axis] < n - 1 and active[nxt] and not visited[nxt]:
                    process(nxt)
                    queue.append(nxt)
    return sign, faces


def _smooth_border(mesh, iterations: int = 20, weight: float = 0.3) -> None:
    """Laplacian smoothing of boundary vertices along the boundary (MeshUDF's border smoothing)."""
    import trimesh

    edges = mesh.edges_sorted[trimesh.grouping.group_rows(mesh.edges_sorted, require_count=1)]
    if not len(edges):
        return
    border = np.unique(edges)
    position = {v: i for i, v in enumerate(border)}
    rows = np.array([position[a] for a in edges[:, 0]] + [position[b] for b in edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    vertices = mesh.vertices.copy()
    counts = np.bincount(rows, minlength=len(border))[:, None]
    for _ in range(iterations):
        average = np.zeros((len(border), 3))
        np.add.at(average, rows, vertices[cols])
        vertices[border] += weight * (average / counts - vertices[border])
    mesh.vertices = vertices


def mesh_udf(f, resolution: int, *, gradient=None, bounds=(-1.0, 1.0), batch_size: int = 65536,
             smooth_border: bool = True, fd_step: float | None = None):
    """An open mesh (trimesh.Trimesh) of the zero set of the UDF f (batched callable on [M,3]).

    gradient(points) -> [M,3] is used when given (e.g. autograd of a network), central
    differences of f otherwise. `resolution` grid vertices per axis span `bounds`.
    """
    import trimesh
    from skimage.measure import marching_cubes

    if resolution < 3:
        raise ValueError(f"resolution must be >= 3, got {resolution}")
    low, high = _box(bounds)
    step = (high - low) / (resolution - 1)
    h = float(step.max())
    u = _fill_grid(f, resolution, low, step, batch_size)
    corner_values = np.stack([u[a:a + resolution - 1, b:b + resolution - 1, c:c + resolution - 1] for a, b, c in CORNERS])
    with np.errstate(invalid="ignore"):
        active = (corner_values.mean(axis=0) < MEAN_FACTOR * h) & (corner_values.max(axis=0) <= MAX_FACTOR * h)
    if not active.any():
        return trimesh.Trimesh(np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64), process=False)
    near = np.argwhere(u <= MAX_FACTOR * h)
    points = (low + near * step).astype(np.float32)
    g = np.asarray(gradient(points), dtype=np.float32) if gradient else finite_difference_gradient(f, points, fd_step or h / 10)
    norm = np.linalg.norm(g, axis=1, keepdims=True)
    grads = np.zeros(u.shape + (3,), dtype=np.float32)
    grads[near[:, 0], near[:, 1], near[:, 2]] = np.divide(g, norm, out=np.zeros_like(g), where=norm > 0)
    sign, face_cells = pseudo_signs(u, grads, active)
    if not face_cells.any():
        return trimesh.Trimesh(np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64), process=False)
    finite = np.isfinite(u)
    volume = np.where(finite, sign * np.where(finite, u, 0.0), 1.0).astype(np.float32)
    mask = np.zeros(u.shape, dtype=bool)
    mask[1:, 1:, 1:] = face_cells  # skimage processes a cube where the mask holds at its far corner
    vertices, faces, _, _ = marching_cubes(volume, level=0.0, spacing=tuple(step), mask=mask, allow_degenerate=False)
    vertices = vertices.astype(np.float64) + low
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    # Spurious faces (pseudo-sign flips without a surface) have a large UDF somewhere on them.
    edges = mesh.edges
    probes = np.concatenate([vertices[edges[:, 0]], vertices[edges[:, 1]], vertices[edges].mean(axis=1)])
    far = evaluate(f, probes.astype(np.float32)) > h / 2
    bad = np.unique(np.tile(mesh.edges_face, 3)[far])
    keep = np.ones(len(faces), dtype=bool)
    keep[bad] = False
    mesh = trimesh.Trimesh(vertices, faces[keep], process=True, validate=True)
    mesh.remove_unreferenced_vertices()
    if smooth_border and len(mesh.faces):
        _smooth_border(mesh)
    return mesh
