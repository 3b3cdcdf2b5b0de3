"""The draping model's data source ("drape"): outfits of garments from part 1 on random bodies.

An item is an outfit: one top and one bottom of a split (tops and bottoms paired in a shuffled
order; the larger category sets the count), worn by a body of random shape beta and pose theta
drawn for that item from (seed, epoch, rank, batch): training draws new bodies every epoch; the
val and test splits draw from a stream of their own (heldout_seed, epoch, batch): held-out bodies
and poses, the same for the same epoch number. The garments, their codes and the body fields come from the store (garment_store.py),
made by `data.make` when missing.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch
import zarr
from torch import Tensor

from inrzoo.cloth import ClothMesh
from inrzoo.zoo.core.data import DataSource
from inrzoo.zoo.drapenet.draping.garment_store import DrapeMakeSettings, make_store


@dataclass
class DrapeDataOptions:
    pose_scale: float = 1.0  # fraction of each joint range the poses are drawn from
    heldout_seed: int = 1_000_003  # the stream of val/test bodies and poses


@dataclass
class DrapeSpec:
    """What the draping model is built from (recorded in its model file)."""

    bones: int = 0
    beta_dim: int = 0
    theta_dim: int = 0
    code_dim: int = 32
    posed_bones: list[str] = field(default_factory=list)
    phenotype_labels: list[str] = field(default_factory=list)
    body_fields: str = ""  # the body fields file the model copies W and dx from when it is built
    fields: dict = field(default_factory=dict)  # their BodyFieldsConfig


@dataclass
class Garment:
    row: int
    category: str
    cloth: ClothMesh  # rest state = canonical garment (metres)
    code: Tensor  # [latent]
    pinned: Tensor  # [N] bool

    @property
    def vertices(self) -> Tensor:
        return self.cloth.rest_vertices

    def to(self, device) -> "Garment":
        self.cloth.to(device)
        self.code, self.pinned = self.code.to(device), self.pinned.to(device)
        return self


@dataclass
class OutfitBatch:
    tops: list[Garment]
    bottoms: list[Garment]
    beta: Tensor  # [n, S]
    theta: Tensor  # [n, P, 3]

    @property
    def size(self) -> int:
        return len(self.tops)

    def to(self, device) -> "OutfitBatch":
        for garment in (*self.tops, *self.bottoms):
            garment.to(device)
        self.beta, self.theta = self.beta.to(device), self.theta.to(device)
        return self


class DrapeData(DataSource):
    kind = "drape"
    options_class = DrapeDataOptions
    spec_class = DrapeSpec
    make_class = DrapeMakeSettings

    def __init__(self, section) -> None:
        super().__init__(section)
        self.root = zarr.open_group(posixpath.join(section.uri, "drape.zarr"), mode="r", zarr_format=3)
        attrs = dict(self.root.attrs)
        self.attrs = attrs
        self.vertex_offsets = self.root["vertex_offsets"][:]
        self.face_offsets = self.root["face_offsets"][:]
        self.codes = self.root["codes"][:]
        self.categories = list(attrs["categories"])
        self.splits = list(attrs["splits"])
        self._cache: dict[int, tuple] = {}
        from inrzoo.bodies.poses import PoseSampler

        rest = {b: np.asarray(m) for b, m in attrs["rest_orientations"].items()}
        self.sampler = PoseSampler(rest, tuple(attrs["posed_bones"]), self.options.pose_scale)

    @classmethod
    def ready(cls, section) -> bool:
        try:
            root = zarr.open_group(posixpath.join(section.uri, "drape.zarr"), mode="r", zarr_format=3)
        except (FileNotFoundError, zarr.errors.GroupNotFoundError):
            return False
        return bool(root.attrs.get("complete"))

    @classmethod
    def make_data(cls, section, settings: DrapeMakeSettings) -> None:
        make_store(section.uri, settings)

    def spec(self) -> DrapeSpec:
        from inrzoo.zoo.drapenet.draping.body_fields import load_body_fields

        path = posixpath.join(self.section.uri, "body_fields.safetensors")
        _, fields_cfg, _ = load_body_fields(path)
        from inrzoo import config as configlib

        return DrapeSpec(int(self.attrs["bones"]), len(self.attrs["phenotype_labels"]),
                         3 * len(self.attrs["posed_bones"]), int(self.codes.shape[1]), list(self.attrs["posed_bones"]),
                         list(self.attrs["phenotype_labels"]), path, configlib.to_dict(fields_cfg))

    def rows(self, split: str, category: str) -> list[int]:
        name = getattr(self.section.split, split)
        return [i for i, (s, c) in enumerate(zip(self.splits, self.categories)) if s == name and c == category]

    def split_sizes(self) -> dict[str, int]:
        return {split: (max(len(self.rows(split, "top")), len(self.rows(split, "bottom")))
                        if self.rows(split, "top") and self.rows(split, "bottom") else 0)
                for split in ("train", "val", "test")}

    def garment(self, row: int) -> Garment:
        if row not in self._cache:
            v0, v1 = self.vertex_offsets[row], self.vertex_offsets[row + 1]
            f0, f1 = self.face_offsets[row], self.face_offsets[row + 1]
            self._cache[row] = (self.root["vertices"][v0:v1], self.root["faces"][f0:f1],
                                self.root["pinned"][v0:v1])
        vertices, faces, pinned = self._cache[row]
        return Garment(row, self.categories[row], ClothMesh(vertices, faces),
                       torch.from_numpy(self.codes[row]), torch.from_numpy(pinned))

    def outfits(self, split: str, seed: int, epoch: int, shuffle: bool) -> list[tuple[int, int]]:
        tops, bottoms = self.rows(split, "top"), self.rows(split, "bottom")
        if not tops or not bottoms:
            return []
        rng = np.random.default_rng([seed, epoch, 17])
        if shuffle:
            tops, bottoms = list(rng.permutation(tops)), list(rng.permutation(bottoms))
        count = max(len(tops), len(bottoms))
        return [(int(tops[i % len(tops)]), int(bottoms[i % len(bottoms)])) for i in range(count)]

    def bodies(self, rng: np.random.Generator, count: int) -> tuple[Tensor, Tensor]:
        from inrzoo.bodies.poses import sample_phenotypes

        beta = torch.from_numpy(sample_phenotypes(rng, count, self.attrs["phenotype_labels"]))
        return beta, torch.from_numpy(self.sampler.sample(rng, count))

    def batches(self, split: str, batch_size: int, *, rank: int = 0, world: int = 1, epoch: int = 0, seed: int = 0,
                shuffle: bool = False, drop_last: bool = False) -> Iterator[OutfitBatch]:
        pairs = self.outfits(split, seed, epoch, shuffle)
        per_worker = len(pairs) // world
        pairs = pairs[rank * per_worker:(rank + 1) * per_worker]
        training = split == "train"
        for number, start in enumerate(range(0, len(pairs), batch_size)):
            chunk = pairs[start:start + batch_size]
            if drop_last and len(chunk) < batch_size:
                break
            stream = [seed, epoch, rank, number] if training else [self.options.heldout_seed, epoch, number]
            beta, theta = self.bodies(np.random.default_rng(stream), len(chunk))
            yield OutfitBatch([self.garment(t) for t, _ in chunk], [self.garment(b) for _, b in chunk], beta, theta)

    def digest(self) -> str:
        payload = {"ids": self.attrs["ids"], "config": self.attrs["config"], "encoder": self.attrs["encoder"],
                   "codes": hashlib.sha256(self.codes.tobytes()).hexdigest()}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
