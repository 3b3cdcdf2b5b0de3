"""The inputs every method of benchmarks/weightspace_kicad.py reads, from one converted dataset:
the rows that converted, their labels, splits and source groups, their INR weights, and their
own surface samples (the row's shape, augmentation and normalization replayed by
inrzoo.pipeline.prepare.row_shape, so PointNet sees the very geometry each INR was fitted to).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from inrzoo import geometry
from inrzoo.pipeline.config import ConvertConfig, resolve
from inrzoo.pipeline.prepare import read_source, row_shape, shape_seed
from inrzoo.pipeline.run import list_shapes
from inrzoo.store import open_weights
from inrzoo.zoo.core.weights import source_ids

log = logging.getLogger("weightspace_kicad.inputs")
BLOCK = 256  # rows per points file: the step resumes block by block


def surface_points(cfg: ConvertConfig, out: Path, n_points: int) -> Path:
    """[rows, n_points, 3] float32 surface samples of every listed row, in the INR's frame."""
    conv = resolve(cfg)
    refs = list_shapes(cfg)
    folder = out / f"points_{n_points}"
    folder.mkdir(parents=True, exist_ok=True)
    for start in range(0, len(refs), BLOCK):
        path = folder / f"rows_{start:06d}.npz"
        if path.exists():
            continue
        block = refs[start:start + BLOCK]
        points = np.full((len(block), n_points, 3), np.nan, dtype=np.float32)
        for k, ref in enumerate(block):
            try:
                shape, _, _, _ = row_shape(ref, read_source(ref["uri"], conv), conv)
                rng = np.random.default_rng(shape_seed(cfg.seed + 1, ref["id"]))  # not the fit's sample stream
                points[k] = geometry.surface_samples(shape, n_points, rng)[0]
            except Exception as exc:  # a row that cannot be read stays NaN and is dropped with its INR row
                log.warning("points of %s: %s", ref["id"], exc)
        np.savez(path, ids=np.array([r["id"] for r in block]), points=points)
        log.info("surface points: rows %d-%d of %d", start, start + len(block), len(refs))
    return folder


def load_points(folder: Path, ids: list[str]) -> torch.Tensor:
    by_id = {}
    for path in sorted(folder.glob("rows_*.npz")):
        with np.load(path) as data:
            by_id.update(zip(data["ids"].tolist(), data["points"]))
    missing = [i for i in ids if i not in by_id]  # ids: list of str
    if missing:
        raise ValueError(f"{folder}: no surface points for {len(missing)} rows, e.g. {missing[:3]}")
    return torch.from_numpy(np.stack([by_id[i] for i in ids]))


@dataclass
class Split:
    """One split's rows: labels [N], source shapes [N] (an augmented copy has its original's), INR
    parameters {name: [N, ...]}, flattened weights [N, P] (canonical order), surface points [N, n, 3]."""

    view: object
    labels: torch.Tensor
    sources: list[str]
    params: dict[str, torch.Tensor]
    flat: torch.Tensor
    points: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)


def load_splits(uri: str, points_folder: Path) -> tuple[dict[str, Split], list[str], object]:
    """{"train", "val", "test"} of the rows whose INR fitted (status ok) and whose points exist."""
    dataset = open_weights(uri).filter(status="ok")
    arch = dataset.architecture(0)
    splits = {}
    for name in ("train", "val", "test"):
        view = dataset.filter(split=name)
        ids = [str(i) for i in view.columns["id"][view.rows]]
        points = load_points(points_folder, ids)
        keep = np.flatnonzero(np.isfinite(points.numpy()).all(axis=(1, 2)))
        if len(keep) < len(ids):
            log.warning("%s: %d rows without surface points dropped", name, len(ids) - len(keep))
        view = view.select(view.rows[keep])
        group, rows = view.group_rows(range(len(view)))
        params = {k: v.float() for k, v in view.read_params(rows, group).items()}
        flat = torch.cat([params[k].reshape(len(view), -1) for k in arch.param_shapes()], dim=1)
        labels = torch.as_tensor(view.columns["label"][view.rows].astype(np.int64))
        sources = [str(i) for i in source_ids(view.columns["id"][view.rows])]
        splits[name] = Split(view, labels, sources, params, flat, points[keep])
    log.info("rows: %s", {k: len(v) for k, v in splits.items()})
    return splits, list(dataset.label_names), arch
