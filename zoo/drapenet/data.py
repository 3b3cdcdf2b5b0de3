"""DrapeNet's own data source: training samples of each garment, prepared once into Zarr.

For every garment of one category (tops or bottoms) of a garment collection (`inrzoo.garments`,
read through `inrzoo.collections`), `prepare_samples(settings, uri)` stores
    queries    [G, Q, 3]  the DrapeNet mixture (`inrzoo.sampling.DrapeNetSampler`): 30 % on the
                          surface, 30 % + N(0, eps^2), 30 % + N(0, (3 eps)^2), 10 % uniform in the box
    distances  [G, Q]     ground-truth unsigned distance, clipped at delta (0 on the surface)
    gradients  [G, Q, 3]  the UDF's gradient: the unit vector from the closest surface point
                          (0 on the surface, where the UDF has none)
    surface    [G, S, 3]  surface points, from which the encoder's input clouds are drawn
    status     [G]        0 pending, 1 written, 2 failed (the error is in attrs["errors"])
The garments are already in the body's garment frame (tops in the upper, bottoms in the lower
half of [-1, 1]^3), so no normalization happens here. A rerun with the same config resumes;
a different config is refused rather than mixed in.
`GarmentSamples` reads given rows: per garment and epoch, a random draw of encoder points and
query points (a pure function of seed, epoch and garment); the zoo's data source (`source.py`)
hands its batches to the core's training loop.
"""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
import zarr

from inrzoo import collections, config as config_io, geometry
from inrzoo.garments.dataset import GarmentDataConfig as CollectionConfig
from inrzoo.garments.dataset import read_params
from inrzoo.sampling import DrapeNetSampler, SurfaceSampler

logger = logging.getLogger(__name__)

# Settings that do not change what is stored (left out when a rerun compares configs).
NOT_CONTENT = ("collection", "garments", "workers")


@dataclass
class GarmentSamplesConfig:
    """How a samples store is made: which garments, which mixture (`data.make` of the "garments"
    source). Defaults: the thesis's mixture, 100,000 queries and 20,000 surface points stored per
    garment (the released code stores 750,000 and 100,000; each step draws a subset)."""

    collection: str = ""  # a garment collection folder (made from `garments` if missing); "": beside the store
    garments: CollectionConfig = field(default_factory=CollectionConfig)  # its `output` is ignored
    index: str = "index.csv"
    category: Literal["top", "bottom"] = "top"
    delta: float = 0.1  # the distance clip (the model's delta)
    queries_per_garment: int = 100_000
    eps: float = 0.003  # the mixture's noise scale: surface, + N(eps), + N(3 eps), uniform
    surface_points: int = 20_000
    limit: int | None = None  # N garments of the category, round robin over the types (smoke runs)
    seed: int = 0
    workers: int = 1  # processes preparing garments in parallel (the content does not depend on it)


def garment_refs(cfg: GarmentSamplesConfig) -> list:
    """The collection's garments of the configured category, in listing order."""
    refs = collections.get("folder", cfg.collection, index=cfg.index).list()
    refs = [r for r in refs if r.meta.get("category") == cfg.category]
    if not refs:
        raise collections.CollectionError(f"{cfg.collection}: no garment of category {cfg.category!r}")
    if cfg.limit is None:
        return refs
    # Round robin over the garment types, so a small limit still holds every type.
    by_type: dict[str, list] = {}
    for ref in refs:
        by_type.setdefault(ref.label, []).append(ref)
    mixed = [group[i] for i in range(max(map(len, by_type.values()))) for group in by_type.values() if i < len(group)]
    return mixed[: cfg.limit]


def stored_mixture(queries_per_garment: int, eps: float) -> DrapeNetSampler:
    """The mixture a store's queries are drawn from (one definition for writing and reading them)."""
    return DrapeNetSampler(n=queries_per_garment, eps=eps)


def garment_arrays(mesh: geometry.Mesh, cfg: GarmentSamplesConfig, seed: int) -> dict[str, np.ndarray]:
    """The samples of one garment (already in the garment frame)."""
    if np.abs(mesh.vertices).max() > 1.0:
        raise geometry.GeometryError(mesh.source, "the garment leaves [-1, 1]^3; it is not in the garment frame")
    rng = np.random.default_rng(seed)
    samples = stored_mixture(cfg.queries_per_garment, cfg.eps).sample(mesh, rng)
    _, gradients = geometry.unsigned_distance(mesh, samples.points, return_gradient=True)
    on_surface = samples.values == 0  # the mixture's surface points are exactly 0
    gradients[on_surface] = 0.0
    surface = SurfaceSampler(n=cfg.surface_points).sample(mesh, rng).points
    return {"queries": samples.points, "distances": np.minimum(samples.values, cfg.delta), "gradients": gradients,
            "surface": surface}


def _create(path: str, count: int, cfg: GarmentSamplesConfig, record: dict) -> zarr.Group:
    root = zarr.open_group(path, mode="w", zarr_format=3)
    q, s = cfg.queries_per_garment, cfg.surface_points
    for name, shape in (("queries", (count, q, 3)), ("distances", (count, q)), ("gradients", (count, q, 3)),
                        ("surface", (count, s, 3))):
        root.create_array(name, shape=shape, chunks=(1,) + shape[1:], dtype="float32", fill_value=0.0)
    root.create_array("status", shape=(count,), chunks=(count,), dtype="int8", fill_value=0)
    root.attrs.update(record)
    return root


def _garment_task(task: tuple) -> tuple[int, dict | str]:
    """One garment's arrays, or the error that stopped it (runs in a worker process)."""
    index, uri, cfg, seed = task
    try:
        return index, garment_arrays(geometry.load(uri, kind="mesh"), cfg, seed)
    except (geometry.GeometryError, ValueError) as exc:
        return index, str(exc)


def make_collection(cfg: GarmentSamplesConfig, uri: str) -> GarmentSamplesConfig:
    """cfg naming its garment collection: cfg.collection (or `<uri>.garments` when empty), generated
    from cfg.garments when nothing is there yet."""
    from inrzoo.garments.dataset import generate_garments

    folder = cfg.collection or uri.rstrip("/") + ".garments"
    try:
        collections.get("folder", folder, index=cfg.index).list()
    except collections.CollectionError:
        generate_garments(config_io.from_dict(CollectionConfig, {**config_io.to_dict(cfg.garments), "output": folder}))
    return config_io.from_dict(GarmentSamplesConfig, {**config_io.to_dict(cfg), "collection": folder})


def prepare_samples(cfg: GarmentSamplesConfig, uri: str) -> str:
    """Write (or finish) the Zarr samples of cfg.category at `uri` (making the collection first
    when cfg.collection is empty); returns `uri`."""
    cfg = make_collection(cfg, uri)
    refs = garment_refs(cfg)
    content = {k: v for k, v in config_io.to_dict(cfg).items() if k not in NOT_CONTENT}
    record = {"config": content, "collection": cfg.collection, "ids": [r.id for r in refs],
              "labels": [r.label for r in refs], "splits": [r.split or "train" for r in refs],
              "uris": [r.uri for r in refs], "params": [read_params(r.meta) for r in refs], "errors": {}}
    try:
        root = zarr.open_group(uri, mode="r+", zarr_format=3)
        found = {k: root.attrs.get(k) for k in ("config", "ids")}
        if found != {k: record[k] for k in ("config", "ids")}:
            raise ValueError(f"{uri}: holds samples of another config or garment list; "
                             f"remove it or choose another path")
    except FileNotFoundError:
        root = _create(uri, len(refs), cfg, record)
    status = root["status"][:]
    errors = dict(root.attrs.get("errors", {}))
    started = time.monotonic()
    tasks = [(i, ref.uri, cfg, cfg.seed * 1_000_003 + i) for i, ref in enumerate(refs) if status[i] == 0]
    with ProcessPoolExecutor(max_workers=cfg.workers) if cfg.workers > 1 else _InProcess() as pool:
        for done, (i, arrays) in enumerate(pool.map(_garment_task, tasks), start=1):
            if isinstance(arrays, str):
                logger.warning("garment %s failed: %s", refs[i].id, arrays)
                errors[refs[i].id] = arrays
                root["status"][i] = 2
                continue
            for name, value in arrays.items():
                root[name][i] = value
            root["status"][i] = 1
            if done % 25 == 0:
                logger.info("drapenet samples: %d/%d garments (%.0f s)", done, len(tasks), time.monotonic() - started)
    root.attrs["errors"] = errors
    return uri


class _InProcess:
    """The executor interface, run in this process (workers = 1)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    @staticmethod
    def map(function, items):
        return map(function, items)


@dataclass
class GarmentRecord:
    """What a samples store knows about its garments (in row order)."""

    ids: list[str]
    labels: list[str]
    splits: list[str]
    uris: list[str]
    params: list[dict[str, float]]
    config: dict
    status: np.ndarray
    collection: str = ""

    @property
    def category(self) -> str:
        return str(self.config["category"])

    @property
    def delta(self) -> float:
        return float(self.config["delta"])

    def rows(self, split: str | None = None) -> list[int]:
        """Rows written without error, of one split (None: all)."""
        return [i for i, s in enumerate(self.splits) if self.status[i] == 1 and (split is None or s == split)]


def read_record(path: str) -> GarmentRecord:
    try:
        root = zarr.open_group(path, mode="r", zarr_format=3)
        attrs = root.attrs
        return GarmentRecord(*(list(attrs[k]) for k in ("ids", "labels", "splits", "uris", "params")),
                             dict(attrs["config"]), root["status"][:], str(attrs.get("collection", "")))
    except (FileNotFoundError, KeyError) as exc:
        raise FileNotFoundError(f"{path}: no garment samples there ({exc})") from exc


def box_queries(config: dict) -> int:
    """How many of a store's queries per garment are its mixture's uniform (box) ones: the last ones
    (`surface_mixture` writes the surface, the shells, then the box)."""
    return stored_mixture(int(config["queries_per_garment"]), float(config["eps"])).split()[3]


class GarmentSamples(torch.utils.data.Dataset):
    """Given rows of a samples store, each a random draw of encoder points and query points.

    box_fraction None draws queries from all stored ones alike; a number draws that share of them
    from the stored box component and the rest from the others (`GarmentOptions.box_fraction`).
    """

    def __init__(self, path: str, rows: list[int], points_encoder: int, points_decoder: int, seed: int = 0,
                 box_fraction: float | None = None):
        self.root = zarr.open_group(path, mode="r", zarr_format=3)
        self.rows = list(rows)
        self.points_encoder, self.points_decoder = points_encoder, points_decoder
        self.seed, self.epoch = seed, 0
        self.box_fraction = box_fraction
        self.box_queries = box_queries(dict(self.root.attrs["config"]))

    def _pick_queries(self, rng: np.random.Generator, stored: int) -> np.ndarray:
        if self.box_fraction is None:
            return rng.choice(stored, self.points_decoder, replace=stored < self.points_decoder)
        n_box = int(round(self.box_fraction * self.points_decoder))
        if n_box and not self.box_queries:
            raise ValueError("box_fraction > 0, but this samples store holds no box queries")
        near = stored - self.box_queries
        pick_box = near + rng.choice(self.box_queries, n_box, replace=self.box_queries < n_box)
        n_near = self.points_decoder - n_box
        return np.concatenate([rng.choice(near, n_near, replace=near < n_near), pick_box])

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, item: int) -> dict[str, torch.Tensor]:
        row = self.rows[item]
        rng = np.random.default_rng([self.seed, self.epoch, row])
        surface = self.root["surface"][row]
        queries = self.root["queries"][row]
        pick_s = rng.choice(len(surface), self.points_encoder, replace=len(surface) < self.points_encoder)
        pick_q = self._pick_queries(rng, len(queries))
        return {"surface": torch.from_numpy(surface[pick_s]), "queries": torch.from_numpy(queries[pick_q]),
                "distances": torch.from_numpy(self.root["distances"][row][pick_q]),
                "gradients": torch.from_numpy(self.root["gradients"][row][pick_q]),
                "row": torch.tensor(row)}


def describe(path: str) -> str:
    """One line per split: how many garments of which types (for logs)."""
    record = read_record(path)
    counts: dict[str, dict[str, int]] = {}
    for label, split in zip(record.labels, record.splits):
        counts.setdefault(split, {}).setdefault(label, 0)
        counts[split][label] += 1
    return json.dumps(counts, sort_keys=True)
