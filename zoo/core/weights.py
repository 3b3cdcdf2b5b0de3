"""The weight-dataset data source: rows of an inrzoo weight dataset, split by source shape.

Named splits are used when the dataset has them. Otherwise the split is drawn by source shape:
an augmented copy (id `<id>#aug<i>`) goes wherever its original goes, so no test shape has a
copy in training; the draw is stratified by label and depends only on the seed. Each Ray Train
worker reads only its contiguous shard of a split, batch by batch, straight from Zarr.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as _field
from typing import Any, Iterator

import numpy as np
import torch
from torch import Tensor

from inrzoo.store import STATUS_CODES, WeightDataset, open_weights
from inrzoo.zoo.core.data import SPLITS, DataSection, DataSource, SplitSection

AUGMENT_MARK = "#aug"


@dataclass
class WeightSpec:
    """What a model of INR weights is built from; recorded in every exported model file."""

    arch: dict[str, Any]  # the INR ArchSpec (inrzoo.inr) as plain data
    param_shapes: dict[str, list[int]]  # canonical order
    field: str = "sdf"  # sdf | udf | occupancy
    fit_loss: dict[str, Any] = _field(default_factory=dict)  # the inrzoo.fit loss the INRs were fitted with
    label_names: list[str] = _field(default_factory=list)

    @classmethod
    def of(cls, arch: Any, field: str = "sdf", fit_loss: dict[str, Any] | None = None,
           label_names: list[str] | None = None) -> "WeightSpec":
        """The spec of INRs of ArchSpec `arch` holding `field`, fitted with `fit_loss` (default L1)."""
        from inrzoo.inr import build

        shapes = build(arch).param_shapes()
        return cls(arch.to_dict(), {n: list(s) for n, s in shapes.items()}, field, dict(fit_loss or {"name": "l1"}),
                   list(label_names or []))

    def architecture(self):
        from inrzoo.inr import build, spec_from_dict

        return build(spec_from_dict(self.arch, source="weight spec"))

    @property
    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {name: tuple(shape) for name, shape in self.param_shapes.items()}

    def field_of(self, raw: Tensor) -> Tensor:
        """An INR's raw output -> its field (surface at 0), by the `decode` of the fit loss it was
        fitted with (e.g. BCE logits back to clamped distances)."""
        from inrzoo.fit import LossConfig, make_loss

        loss = LossConfig(**{k: v for k, v in self.fit_loss.items() if k in LossConfig.__dataclass_fields__})
        return make_loss(loss, self.field).decode(raw)


@dataclass
class WeightBatch:
    """K stacked INRs of one architecture with their labels (-1: none) and dataset rows."""

    params: dict[str, Tensor]
    labels: Tensor
    rows: Tensor

    @property
    def size(self) -> int:
        return int(self.labels.shape[0])

    def to(self, device: torch.device | str | None) -> "WeightBatch":
        if device is None:
            return self
        return WeightBatch({n: p.to(device).float() for n, p in self.params.items()}, self.labels.to(device),
                           self.rows.to(device))

    @classmethod
    def from_loader(cls, item: dict[str, Any]) -> "WeightBatch":
        return cls({n: p.float() for n, p in item["params"].items()}, item["label"], item["row"])


@dataclass
class DemoWeights:
    """`data.make` of weight datasets: convert the meshes bundled with inrzoo (inrzoo.demo's
    collection, with labels and splits) into data.uri when no complete dataset is there."""

    preset: str = "davies"
    copies: int = 0  # augmented copies per shape (inr2vec's augmentation)
    overrides: list[str] = _field(default_factory=list)  # KEY=VALUE of the conversion config (the budget)


@dataclass
class WeightOptions:
    status: str = "ok"  # rows used: fitted ones
    arch: int = -1  # architecture group; -1: the dataset's only one (an error if it has several)
    train_copies: bool = True  # False: the train split without augmented copies (val and test keep theirs)


class WeightData(DataSource):
    kind = "weights"
    options_class = WeightOptions
    spec_class = WeightSpec
    make_class = DemoWeights

    @classmethod
    def ready(cls, section: DataSection) -> bool:
        from inrzoo.store import StoreError

        try:
            dataset = open_weights(section.uri, section.storage_options, status=None)
        except (StoreError, FileNotFoundError):
            return False
        return bool(len(dataset)) and not np.any(dataset.columns["status"] == STATUS_CODES["pending"])

    @classmethod
    def make_data(cls, section: DataSection, settings: DemoWeights) -> None:
        from inrzoo.demo import bundled_collection
        from inrzoo.pipeline import convert, load_convert_config

        overrides = [f"preset={settings.preset}", f"source.uri={bundled_collection()}", "source.options.index=index.csv",
                     f"output.uri={section.uri}", f"augment.copies={settings.copies}", "tracking.enabled=false",
                     "runtime.executor=local", *settings.overrides]
        report = convert(load_convert_config(None, overrides))
        if report.pending or not report.ok:
            raise RuntimeError(f"{section.uri}: making the demo weights left {report.pending} rows pending, "
                               f"{report.ok} fitted")

    def __init__(self, section: DataSection, dataset: WeightDataset | None = None) -> None:
        super().__init__(section)
        self.dataset = dataset if dataset is not None else open_weights(section.uri, section.storage_options,
                                                                        status=self.options.status)
        groups = np.unique(self.dataset.columns["arch"][self.dataset.rows])
        if self.options.arch >= 0:
            self.dataset = self.dataset.filter(arch=self.options.arch)
        elif len(groups) > 1:
            raise ValueError(f"{section.uri}: rows of {len(groups)} architectures; pick one with data.options.arch")
        self.views = split_views(self.dataset, section.split)
        if not self.options.train_copies:
            train = self.views["train"]
            self.views["train"] = train.select([row for row in train.rows
                                                if AUGMENT_MARK not in str(train.columns["id"][row])])

    def spec(self) -> WeightSpec:
        ds = self.dataset
        group = int(self.options.arch) if self.options.arch >= 0 else int(ds.columns["arch"][ds.rows[0]])
        return WeightSpec.of(ds.arch_spec(group), ds.field(), dict(ds.fit_config().get("loss") or {}), ds.label_names)

    def split_sizes(self) -> dict[str, int]:
        return {name: len(view) for name, view in self.views.items()}

    def batches(self, split: str, batch_size: int, *, rank: int = 0, world: int = 1, epoch: int = 0,
                seed: int = 0, shuffle: bool = False, drop_last: bool = False) -> Iterator[WeightBatch]:
        view = shard(self.views[split], rank, world) if world > 1 else self.views[split]
        if len(view) == 0 or (drop_last and len(view) < batch_size):
            return iter(())  # no full batch (a DataLoader over zero batches would refuse to shuffle)
        order = torch.Generator().manual_seed(seed * 100_003 + epoch)
        loader = view.loader(batch_size, shuffle=shuffle, drop_last=drop_last, generator=order)
        return (WeightBatch.from_loader(item) for item in loader)

    def digest(self) -> str:
        return self.dataset.digest()


def source_ids(ids: np.ndarray) -> np.ndarray:
    return np.array([str(i).split(AUGMENT_MARK)[0] for i in ids])


def split_views(dataset: WeightDataset, cfg: SplitSection) -> dict[str, WeightDataset]:
    """{"train", "val", "test"} views (val may be empty) of the rows in `dataset`."""
    rows = dataset.rows
    splits = np.array([str(s) for s in dataset.columns["split"][rows]])
    if np.any(splits == cfg.train):
        named = {"train": cfg.train, "val": cfg.val, "test": cfg.test}
        views = {key: dataset.select(rows[splits == name]) for key, name in named.items()}
    else:
        views = _seeded_split(dataset, cfg)
    if len(views["train"]) < 2:
        raise ValueError(f"{dataset.uri}: the train split has {len(views['train'])} rows; training needs at least 2")
    return views


def _seeded_split(dataset: WeightDataset, cfg: SplitSection) -> dict[str, WeightDataset]:
    cols, rows = dataset.columns, dataset.rows
    sources = source_ids(cols["id"][rows])
    # One label per source shape (copies share it); groups in first-seen order, then shuffled.
    first: dict[str, int] = {}
    for source, label in zip(sources, cols["label"][rows]):
        first.setdefault(source, int(label))
    rng = np.random.default_rng(cfg.seed)
    assignment: dict[str, str] = {}
    for label in sorted(set(first.values())):
        members = [s for s, lab in first.items() if lab == label]
        members = [members[i] for i in rng.permutation(len(members))]
        n_test = _count(len(members), cfg.test_fraction)
        n_val = _count(len(members) - n_test, cfg.val_fraction)
        for i, source in enumerate(members):
            assignment[source] = "test" if i < n_test else "val" if i < n_test + n_val else "train"
    side = np.array([assignment[s] for s in sources])
    return {key: dataset.select(rows[side == key]) for key in SPLITS}


def _count(n: int, fraction: float) -> int:
    """round(n * fraction), but at least one when the fraction asks for any and n > 1."""
    if fraction <= 0 or n < 2:
        return 0
    return min(n - 1, max(1, int(round(n * fraction))))


def shard(view: WeightDataset, rank: int, world: int) -> WeightDataset:
    """Worker `rank`'s contiguous run of rows (contiguous rows touch the fewest chunks).

    Every shard has the same length (the remainder is dropped) so that DDP workers take the
    same number of steps and no all-reduce waits for a worker that has run out of data.
    """
    per = len(view) // world
    if per < 2:
        raise ValueError(f"{view.uri}: {len(view)} rows cannot feed {world} workers 2+ INRs each")
    return view.select(view.rows[rank * per:(rank + 1) * per])
