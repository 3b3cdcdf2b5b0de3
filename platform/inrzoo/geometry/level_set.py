"""Points on a fitted field's zero level set without a dense grid.

A coarse grid finds the cells the surface can pass through; only those are refined; points
drawn in the refined cells where the field changes sign are projected onto the level set along
the gradient (Newton steps x <- x - f(x) grad f / |grad f|^2). With resolution 64 and refine 4
the cells are those of a 256^3 grid (the marching-cubes default), at a few percent of its field
evaluations. The points are spread like marching-cubes samples: one candidate per crossing
cell, so every part of the surface gets points in proportion to its area (up to the factor
<= sqrt(3) by which a cell's share of surface depends on the surface's orientation).
"""

from __future__ import annotations

import numpy as np

from .extract import _box, evaluate, numpy_field, sample_grid

# A surface through a cell is within one cell diagonal of every corner, so for a 1-Lipschitz
# field (an SDF) every corner's |f| is below one diagonal there. Chosen: refine cells whose
# corners change sign or all have |f| below 1.5 diagonals (fitted fields are close to, not
# exactly, 1-Lipschitz); the second rule catches thin parts whose sign change falls between
# coarse nodes.
REFINE_MARGIN = 1.5
# A barely fitted or diverged field is near zero almost everywhere, so nearly every coarse cell
# passes the margin rule and refining them all costs minutes per shape (measured: 59 of a 68 s
# two-shape conversion after 2 epochs). Chosen: refine at most CELLS_PER_POINT * n candidate
# cells. Cells whose corners change sign are all kept (up to the cap, then a uniform random
# subset), and the margin-only cells fill the rest at random: the surface seen at the coarse
# level stays fully covered, and only thin parts lose points when the cap bites. A well-fitted
# shape at resolution 64 has about 10^4 candidate cells, under the cap for 30,000 points.
CELLS_PER_POINT = 2


def _corner_offsets() -> np.ndarray:
    return np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)], dtype=np.int64)


def _cell_corners(values: np.ndarray) -> np.ndarray:
    """[8, ..., X-1, Y-1, Z-1]: the corner values of every cell of node grids values[..., X, Y, Z]."""
    r = np.array(values.shape[-3:]) - 1
    return np.stack([values[..., i:i + r[0], j:j + r[1], k:k + r[2]] for i, j, k in _corner_offsets()])


def _crossing_cells(values: np.ndarray) -> np.ndarray:
    """Indices [M, ndim] (a leading batch axis is kept) of the cells whose corners change sign."""
    corners = _cell_corners(values)
    return np.argwhere((corners.min(axis=0) <= 0) & (corners.max(axis=0) >= 0))


def _candidate_cells(values: np.ndarray, threshold: float) -> tuple[np.ndarray, int]:
    """The coarse cells to refine: those whose corners change sign (first; their count is
    returned too), then those whose corners all have |value| below threshold."""
    corners = _cell_corners(values)
    crossing = (corners.min(axis=0) <= 0) & (corners.max(axis=0) >= 0)
    near = ~crossing & (np.abs(corners).max(axis=0) < threshold)
    crossed = np.argwhere(crossing)
    return np.concatenate([crossed, np.argwhere(near)]), len(crossed)


def _at_most(cells: np.ndarray, crossing: int, cap: int, rng: np.random.Generator) -> np.ndarray:
    """`cells` (the first `crossing` of them change sign) cut to `cap`: sign-changing cells
    first, then a random subset of the others (see CELLS_PER_POINT)."""
    if len(cells) <= cap:
        return cells
    if crossing >= cap:
        return cells[np.sort(rng.choice(crossing, size=cap, replace=False))]
    extra = crossing + np.sort(rng.choice(len(cells) - crossing, size=cap - crossing, replace=False))
    return np.concatenate([cells[:crossing], cells[extra]])


def _refined_values(field, cells: np.ndarray, refine: int, low, fine_step, nodes_per_axis: int,
                    batch_size: int) -> np.ndarray:
    """Field values [M, refine+1, refine+1, refine+1] at the fine nodes of each candidate cell;
    a node shared by neighbouring cells is evaluated once."""
    sub = np.stack(np.meshgrid(*[np.arange(refine + 1)] * 3, indexing="ij"), axis=-1).reshape(-1, 3)
    fine = (cells[:, None, :] * refine + sub[None]).reshape(-1, 3)
    key = (fine[:, 0] * nodes_per_axis + fine[:, 1]) * nodes_per_axis + fine[:, 2]
    unique, inverse = np.unique(key, return_inverse=True)
    ijk = np.stack(np.unravel_index(unique, (nodes_per_axis,) * 3), axis=1)
    values = np.empty(len(unique), dtype=np.float32)
    for start in range(0, len(unique), batch_size):
        values[start:start + batch_size] = field((low + ijk[start:start + batch_size] * fine_step).astype(np.float32))
    return values[inverse].reshape((len(cells),) + (refine + 1,) * 3)


def _value_and_gradient(f, points: np.ndarray, step: float, level: float) -> tuple[np.ndarray, np.ndarray]:
    """f - level and the gradient of f at the points: autograd for torch modules, central
    differences otherwise."""
    import torch

    if isinstance(f, torch.nn.Module):
        x = torch.from_numpy(points).requires_grad_(True)
        value = f(x).reshape(-1)
        (grad,) = torch.autograd.grad(value.sum(), x)
        return value.detach().numpy().astype(np.float64) - level, grad.numpy().astype(np.float64)
    f = numpy_field(f)
    value = evaluate(f, points).astype(np.float64) - level
    grad = np.empty((len(points), 3))
    for axis in range(3):
        shift = np.zeros(3, dtype=np.float32)
        shift[axis] = step
        grad[:, axis] = (evaluate(f, points + shift) - evaluate(f, points - shift)) / (2 * step)
    return value, grad


def level_set_points(f, n: int, *, resolution: int = 64, refine: int = 4, bounds=(-1.0, 1.0),
                     rng: np.random.Generator | None = None, iterations: int = 3, batch_size: int = 65536,
                     level: float = 0.0) -> np.ndarray:
    """n points float32 [n,3] on f's `level` set (fewer, possibly 0, if the set is small or empty).

    resolution: coarse grid nodes per axis; refine: subcells per axis of each refined cell (at
    most CELLS_PER_POINT * n candidate cells, drawn at random, are refined).
    Points whose projection does not converge (|f - level| above 1e-3 of a fine cell, or moved
    more than a fine cell diagonal) are dropped.
    """
    if resolution < 2 or refine < 1:
        raise ValueError(f"level_set_points: resolution >= 2 and refine >= 1 needed, got {resolution}, {refine}")
    rng = np.random.default_rng(0) if rng is None else rng
    low, high = _box(bounds)
    step = (high - low) / (resolution - 1)
    values_of = numpy_field(f)
    field = lambda p: evaluate(values_of, p) - level  # noqa: E731
    coarse = sample_grid(field, (resolution,) * 3, low, step, batch_size)
    cells, crossing = _candidate_cells(coarse, REFINE_MARGIN * float(np.linalg.norm(step)))
    if len(cells) == 0:
        return np.empty((0, 3), dtype=np.float32)
    cells = _at_most(cells, crossing, CELLS_PER_POINT * n, rng)
    # Each candidate cell as a (refine+1)^3 node block; a fine cell crossing the level keeps
    # its lower corner.
    fine_step = step / refine
    values = _refined_values(field, cells, refine, low, fine_step, (resolution - 1) * refine + 1, batch_size)
    local = _crossing_cells(values)  # [M, 4]: candidate cell, then the fine cell within it
    fine = cells[local[:, 0]] * refine + local[:, 1:]
    if len(fine) == 0:
        return np.empty((0, 3), dtype=np.float32)
    # Oversample so that dropping unconverged projections still leaves about n.
    pick = fine[rng.integers(len(fine), size=int(n * 1.2) + 16)]
    start_points = low + (pick + rng.random((len(pick), 3))) * fine_step
    points = start_points.copy()
    for _ in range(iterations):
        value, grad = _value_and_gradient(f, points.astype(np.float32), 1e-3 * float(fine_step.min()), level)
        norm2 = np.maximum(np.sum(grad * grad, axis=1), 1e-12)
        points -= (value / norm2)[:, None] * grad
    value = field(points.astype(np.float32))
    diagonal = float(np.linalg.norm(fine_step))
    good = (np.abs(value) < 1e-3 * diagonal) & (np.linalg.norm(points - start_points, axis=1) < diagonal)
    return points[good][:n].astype(np.float32)
