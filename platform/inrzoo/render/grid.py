"""Pictures of many rows of a weight dataset from one call, optionally beside their originals.

    render_grid(dataset, range(16), "grid.png")                     # 16 INRs, sphere-traced together
    render_grid(dataset, range(6), "cmp.png", originals=True)       # originals above their INRs

Rows are traced in batches of one architecture and field kind (inrzoo.fields.dataset_fields), in
their normalized frame. Originals are loaded from each row's source URI, put in the same frame
(inrzoo.store.frames: the row's augmentation scaling, then its normalization) and traced as exact
signed distance fields (inrzoo.fields.mesh),
so both rows of a comparison share camera, light and shading.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from inrzoo.fields import dataset_fields
from inrzoo.render.camera import Camera
from inrzoo.render.image import Style, render_field

log = logging.getLogger(__name__)

ORIGINAL_MAX_FACES = 200_000  # chosen: larger originals are left out of previews (tracing them costs seconds)


def render_rows(dataset: Any, positions: Sequence[int], size: int = 256, camera: Camera | None = None, *,
                kind: str | None = None, lipschitz: str = "estimated", **options: Any) -> np.ndarray:
    """uint8 [len(positions), size, size, 3]: each row's INR, sphere-traced (see render_field)."""
    positions = list(positions)
    images = np.empty((len(positions), size, size, 3), dtype=np.uint8)
    for members, field in dataset_fields(dataset, positions, kind=kind, lipschitz=lipschitz):
        images[members] = render_field(field, size, camera, **options)
    return images


def render_originals(dataset: Any, positions: Sequence[int], size: int = 256, camera: Camera | None = None, *,
                     max_faces: int = ORIGINAL_MAX_FACES, **options: Any) -> list[np.ndarray | None]:
    """Each row's source mesh in the row's normalized frame, or None where it cannot be read
    (remote sources without credentials, point clouds, too many faces); reasons are logged."""
    from inrzoo.fields.mesh import MeshField
    from inrzoo.geometry import GeometryError, Mesh, load
    from inrzoo.store.frames import to_inr_frame

    radius = float(np.sqrt(3.0)) if (dataset.attrs.get("config") or {}).get("normalize") == "cube" else 1.0
    images: list[np.ndarray | None] = []
    for record in dataset.get_records(list(positions), with_params=False):
        try:
            shape = load(record.source_uri, max_faces=max_faces)
            if not isinstance(shape, Mesh) or not record.transform:
                raise GeometryError(record.source_uri, "not a mesh with a stored transform")
            normalized = Mesh(to_inr_frame(shape.vertices, record.transform, record.meta), shape.faces, shape.source)
            images.append(render_field(MeshField(normalized, radius=radius), size, camera, **options)[0])
        except (GeometryError, OSError, ValueError) as exc:
            log.info("no picture of the original of row %d (%s): %s", record.row, record.id, exc)
            images.append(None)
    return images


def save_grid(images: Sequence[np.ndarray | None], target: str | Path | IO[bytes], *, titles: Sequence[str] | None = None,
              columns: int | None = None, style: Style | None = None) -> None:
    """One PNG of equally sized images in rows of `columns` (None entries stay blank), titled."""
    from inrzoo.render.meshes import pyplot

    if not images:
        raise ValueError("save_grid: no images")
    shape = next((im.shape for im in images if im is not None), None)
    if shape is None:
        raise ValueError("save_grid: every image is missing")
    columns = columns or int(np.ceil(np.sqrt(len(images))))
    rows = int(np.ceil(len(images) / columns))
    height, width = shape[0], shape[1]
    caption = 14 if titles else 0  # pixels of title above each image
    plt = pyplot()
    fig = plt.figure(figsize=(columns * width / 100, rows * (height + caption) / 100), dpi=100)
    blank = np.full(shape, np.array((style or Style()).background) * 255, dtype=np.uint8)
    for i, image in enumerate(images):
        top = 1 - (i // columns + 1) * (height + caption) / (rows * (height + caption))
        ax = fig.add_axes((i % columns / columns, top, 1 / columns, height / (rows * (height + caption))))
        ax.imshow(image if image is not None else blank, interpolation="nearest")
        ax.set_axis_off()
        if titles:
            ax.set_title(_short(titles[i], max(8, width // 6)), fontsize=7, pad=2)
    fig.savefig(target, dpi=100, format="png")
    plt.close(fig)


def render_grid(dataset: Any, positions: Sequence[int], target: str | Path | IO[bytes], *, size: int = 192,
                columns: int | None = None, titles: bool = True, originals: bool = False,
                camera: Camera | None = None, **options: Any) -> None:
    """PNG of rows of a dataset; with originals, each column holds the source above its INR."""
    positions = list(positions)
    if not positions:
        raise ValueError(f"{dataset.uri}: no rows to draw")
    inrs = list(render_rows(dataset, positions, size, camera, **options))
    records = dataset.get_records(positions, with_params=False)
    names = [r.id for r in records] if titles else None
    if not originals:
        save_grid(inrs, target, titles=names, columns=columns)
        return
    sources = render_originals(dataset, positions, size, camera)
    if all(image is None for image in sources):
        save_grid(inrs, target, titles=names, columns=columns)
        return
    errors = [f"INR, surface error {r.metrics['surface_error']:.4f}" if "surface_error" in r.metrics else "INR"
              for r in records]
    labels = (names + errors) if names else None
    save_grid(sources + inrs, target, titles=labels, columns=len(positions))


def _short(text: str, limit: int = 28) -> str:
    text = text.rsplit("/", 1)[-1]
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
