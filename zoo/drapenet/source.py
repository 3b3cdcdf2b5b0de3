"""The "garments" data source of the zoo core: DrapeNet's samples store (`data.py`) as batches.

    data:
      uri: out/drapenet/tops.zarr          # the samples store (made by `make` when missing)
      options: {points_encoder: 10000, points_decoder: 20000}
      make: {category: top, garments: {counts: {...}}}   # GarmentSamplesConfig

Splits are the collection's own (the garment generator holds out the last tenth of each type as
"test"); without them, a seeded split stratified by garment type. Shards per Ray Train worker are
contiguous runs of equal length. The spec that models are built from and that model files record
is the category, the distance clip and the garment types.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np
import torch
from torch import Tensor

from inrzoo.zoo.core.data import SPLITS, DataSection, DataSource, TensorBatch
from inrzoo.zoo.drapenet.data import GarmentSamples, GarmentSamplesConfig, prepare_samples, read_record


@dataclass
class GarmentOptions:
    """Points drawn per garment and step (thesis: 10,000 for the encoder, 20,000 queries).

    box_fraction: the share of each step's queries drawn from the stored mixture's uniform (box)
    component. None draws from all stored queries alike, so the box gets its stored 10 % (the
    thesis's mixture). A larger share is my choice for short runs: the box queries are the only
    ones that say "no surface here" away from a garment, and with few queries and epochs a region
    like a T-shirt's forearm gets almost none of them (see the README, "Figures at the CPU budget").
    """

    points_encoder: int = 10_000
    points_decoder: int = 20_000
    box_fraction: float | None = None

    def __post_init__(self) -> None:
        if self.box_fraction is not None and not 0.0 <= self.box_fraction <= 1.0:
            raise ValueError(f"data.options.box_fraction must be in [0, 1] or null, got {self.box_fraction}")


@dataclass
class GarmentSpec:
    category: str = "top"
    delta: float = 0.1
    label_names: list[str] = field(default_factory=list)


@dataclass
class GarmentBatch(TensorBatch):
    """B garments: encoder points [B, Pe, 3], queries [B, Pd, 3], clipped UDF [B, Pd], gradients [B, Pd, 3]."""

    surface: Tensor
    queries: Tensor
    distances: Tensor
    gradients: Tensor
    rows: Tensor

    @classmethod
    def collate(cls, items: list[dict[str, Tensor]]) -> "GarmentBatch":
        return cls(*(torch.stack([item[key] for item in items]) for key in ("surface", "queries", "distances",
                                                                           "gradients", "row")))


def split_rows(labels: list[str], splits: list[str], rows: list[int], section: DataSection) -> dict[str, list[int]]:
    """{"train", "val", "test"}: the named splits when the data has them, else a seeded split by type."""
    cfg = section.split
    named = {"train": cfg.train, "val": cfg.val, "test": cfg.test}
    if any(splits[r] == cfg.train for r in rows):
        return {key: [r for r in rows if splits[r] == name] for key, name in named.items()}
    rng = np.random.default_rng(cfg.seed)
    out: dict[str, list[int]] = {key: [] for key in SPLITS}
    for label in sorted({labels[r] for r in rows}):
        members = [r for r in rows if labels[r] == label]
        members = [members[i] for i in rng.permutation(len(members))]
        n_test = int(round(len(members) * cfg.test_fraction)) if len(members) > 1 else 0
        n_val = int(round((len(members) - n_test) * cfg.val_fraction)) if len(members) > 1 else 0
        out["test"] += members[:n_test]
        out["val"] += members[n_test:n_test + n_val]
        out["train"] += members[n_test + n_val:]
    return {key: sorted(value) for key, value in out.items()}


class GarmentData(DataSource):
    kind = "garments"
    options_class = GarmentOptions
    spec_class = GarmentSpec
    make_class = GarmentSamplesConfig

    @classmethod
    def ready(cls, section: DataSection) -> bool:
        try:
            record = read_record(section.uri)
        except FileNotFoundError:
            return False
        return bool(len(record.status)) and not np.any(record.status == 0)

    @classmethod
    def make_data(cls, section: DataSection, settings: GarmentSamplesConfig) -> None:
        prepare_samples(settings, section.uri)

    def __init__(self, section: DataSection) -> None:
        super().__init__(section)
        self.record = read_record(section.uri)
        self.views = split_rows(self.record.labels, self.record.splits, self.record.rows(), section)
        if len(self.views["train"]) < 2:
            raise ValueError(f"{section.uri}: the train split has {len(self.views['train'])} garments; "
                             f"training needs at least 2")

    def spec(self) -> GarmentSpec:
        return GarmentSpec(self.record.category, self.record.delta, sorted(set(self.record.labels)))

    def split_sizes(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.views.items()}

    def samples(self, split: str, seed: int = 0, epoch: int = 0) -> GarmentSamples:
        """The split as a Dataset (items in row order) with this source's points per garment."""
        dataset = GarmentSamples(self.section.uri, self.views[split], self.options.points_encoder,
                                 self.options.points_decoder, seed, box_fraction=self.options.box_fraction)
        dataset.epoch = epoch
        return dataset

    def batches(self, split: str, batch_size: int, *, rank: int = 0, world: int = 1, epoch: int = 0,
                seed: int = 0, shuffle: bool = False, drop_last: bool = False) -> Iterator[GarmentBatch]:
        dataset = self.samples(split, seed, epoch)
        if world > 1:
            per = len(dataset.rows) // world
            if per < 2:
                raise ValueError(f"{self.section.uri}: {len(dataset.rows)} garments cannot feed {world} workers 2+ each")
            dataset.rows = dataset.rows[rank * per:(rank + 1) * per]
        if not len(dataset):
            return iter(())
        order = torch.Generator().manual_seed(seed * 100_003 + epoch)
        loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                                             generator=order, collate_fn=GarmentBatch.collate)
        return iter(loader)

    def digest(self) -> str:
        key = json.dumps({"config": self.record.config, "ids": self.record.ids}, sort_keys=True)
        return hashlib.sha256(key.encode()).hexdigest()

    def rows_info(self, split: str) -> list[dict[str, Any]]:
        """Per item of a split: id, type, split, mesh URI and parameters (for tasks)."""
        r = self.record
        return [{"row": i, "id": r.ids[i], "label": r.labels[i], "uri": r.uris[i], "params": r.params[i]}
                for i in self.views[split]]
