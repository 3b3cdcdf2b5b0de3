"""Write a garment collection: meshes plus an index that `inrzoo.collections` reads as a folder.

    from inrzoo.garments.dataset import GarmentDataConfig, generate_garments
    generate_garments(GarmentDataConfig(output="data/garments"))
    refs = inrzoo.collections.get("folder", "data/garments", index="index.csv").list()

Layout under `output` (any fsspec URI):
    meshes/<type>_<nnnn>.ply   open triangle meshes in the garment frame (normalized)
    index.csv                  file, label (= type), category (top/bottom), split, one column per parameter
    body.npz                   the body the garments were fitted to (`inrzoo.bodies.Body`)
    garments.yaml              the resolved config, the garment frame and what was written
Garment i of a type is a pure function of (config, type, i), so a rerun rewrites the same files.
A garment that cannot be built is logged and listed under `failed` in garments.yaml.
"""

from __future__ import annotations

import csv
import io
import logging
import posixpath
import time
from dataclasses import dataclass, field

import fsspec
import numpy as np
import yaml

from inrzoo import config as config_io
from inrzoo.bodies import load_body
from inrzoo.garments.build import GarmentBuilder, GarmentSettings
from inrzoo.garments.params import CATEGORIES, RANGES, TYPES, sample_params
from inrzoo.geometry import GeometryError

logger = logging.getLogger(__name__)

# At least 300 tops and 150 bottoms by default (issue 15).
DEFAULT_COUNTS = {"tshirt": 90, "longsleeve": 80, "tank": 70, "dress": 70, "skirt": 55, "trousers": 50, "shorts": 50}


@dataclass
class GarmentDataConfig:
    output: str = "garments"
    counts: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_COUNTS))
    seed: int = 0
    test_fraction: float = 0.1  # chosen: a held-out test split of each type
    body: str | None = None  # None: anny's average body, built; "stored": its copy in the package; or a Body .npz
    settings: GarmentSettings = field(default_factory=lambda: GarmentSettings(spacing=0.015))
    storage_options: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.counts) - set(TYPES))
        if unknown:
            raise ValueError(f"garment counts name unknown type(s) {unknown}; known: {TYPES}")
        if any(int(n) < 0 for n in self.counts.values()):
            raise ValueError(f"garment counts must be >= 0, got {self.counts}")
        if not 0.0 <= self.test_fraction < 1.0:
            raise ValueError(f"test_fraction must lie in [0, 1), got {self.test_fraction}")


def garment_rng(seed: int, garment_type: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, TYPES.index(garment_type), index])


def _ply_bytes(vertices: np.ndarray, faces: np.ndarray) -> bytes:
    import trimesh

    return trimesh.Trimesh(vertices, faces, process=False).export(file_type="ply", encoding="binary")


def generate_garments(cfg: GarmentDataConfig) -> dict:
    """Build every garment of `cfg` and write the collection; returns the summary written to garments.yaml."""
    fs, root = fsspec.core.url_to_fs(cfg.output, **cfg.storage_options)
    fs.makedirs(posixpath.join(root, "meshes"), exist_ok=True)
    body = load_body(cfg.body)
    builder = GarmentBuilder(body, cfg.settings)
    with fs.open(posixpath.join(root, "body.npz"), "wb") as handle:
        buffer = io.BytesIO()
        body.save(buffer)
        handle.write(buffer.getvalue())
    parameters = sorted({name for ranges in RANGES.values() for name in ranges})
    rows, failed = [], []
    total = sum(int(n) for n in cfg.counts.values())
    started = time.monotonic()
    for garment_type in TYPES:
        count = int(cfg.counts.get(garment_type, 0))
        # Chosen: the last ceil(fraction * count) garments of each type are the test split.
        n_test = int(np.ceil(cfg.test_fraction * count)) if count else 0
        for i in range(count):
            name = f"{garment_type}_{i:04d}"
            params = sample_params(garment_type, garment_rng(cfg.seed, garment_type, i))
            try:
                mesh = builder.build(params, name=name)
            except GeometryError as exc:
                logger.warning("garment %s failed: %s", name, exc)
                failed.append({"name": name, "error": str(exc)})
                continue
            rel = f"meshes/{name}.ply"
            with fs.open(posixpath.join(root, rel), "wb") as handle:
                handle.write(_ply_bytes(mesh.vertices, mesh.faces))
            split = "test" if i >= count - n_test else "train"
            rows.append({"file": rel, "label": garment_type, "category": CATEGORIES[garment_type], "split": split,
                         **{k: "" for k in parameters}, **{k: f"{v:.6g}" for k, v in params.values.items()}})
            if len(rows) % 25 == 0:
                logger.info("garments: %d/%d written (%.0f s)", len(rows) + len(failed), total,
                            time.monotonic() - started)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=["file", "label", "category", "split", *parameters])
    writer.writeheader()
    writer.writerows(rows)
    with fs.open(posixpath.join(root, "index.csv"), "w") as handle:
        handle.write(text.getvalue())
    summary = {"config": config_io.to_dict(cfg), "frame": builder.frame.to_dict(), "body": body.source,
               "written": {t: sum(r["label"] == t for r in rows) for t in TYPES}, "failed": failed}
    with fs.open(posixpath.join(root, "garments.yaml"), "w") as handle:
        handle.write(yaml.safe_dump(summary, sort_keys=False))
    logger.info("garments: %d written, %d failed in %.0f s to %s", len(rows), len(failed),
                time.monotonic() - started, cfg.output)
    return summary


def read_params(meta: dict) -> dict[str, float]:
    """The garment parameters of a collection row's meta (the index's parameter columns)."""
    names = {name for ranges in RANGES.values() for name in ranges}
    return {k: float(v) for k, v in meta.items() if k in names and v not in (None, "")}
