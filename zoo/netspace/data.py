"""The zoos NetSpace learns from: weight datasets of whole networks, as a zoo data source.

Any inrzoo weight dataset works: a classifier zoo (built by `inrzoo.classifiers`, one
architecture group per family; the group order is the ClassId order) or an SDF zoo (a
conversion with independent initializations, one MLP architecture). Batches carry the
networks as flat parameter rows in canonical order, zero-padded to the largest architecture
(a PRep is these rows reshaped, so the model lays them out at its own PRep size), with their
architecture ids; a classifier batch adds a minibatch of the images the zoo was trained on and
the fixed teacher (the most accurate network of the train split, by validation accuracy).

Splits: the dataset's named splits (classifier zoos have train/val/test), otherwise the core's
seeded split by source shape (augmented copies follow their original).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from dataclasses import field as _field
from typing import Any, Iterator, Literal

import numpy as np
import torch

from inrzoo.classifiers import ImageSplits, load_digits_splits
from inrzoo.inr import ClassifierSpec, build, flatten_params, spec_from_dict
from inrzoo.store import WeightDataset, open_weights
from inrzoo.zoo.core.data import DataSection, DataSource, TensorBatch
from inrzoo.zoo.core.weights import WeightData, split_views

CLASSIFIER_COLLECTION = "sklearn-digits-classifiers"


@dataclass
class NetZooSpec:
    """What NetSpace is built from (recorded in its model file): the zoo's architectures as
    registry specs in ClassId order, what the networks are, and for classifiers their images."""

    archs: list[dict[str, Any]] = _field(default_factory=list)
    kind: Literal["sdf", "classifier"] = "sdf"
    images: str = ""  # "digits" for classifier zoos
    image_seed: int = 0  # the digits split the zoo's networks were trained and tested on

    def architectures(self) -> list:
        return [build(spec_from_dict(a, source="NetSpace zoo spec")) for a in self.archs]

    @property
    def max_params(self) -> int:
        return max(arch.num_params for arch in self.architectures())

    def labels(self) -> list[str]:
        return [spec_from_dict(a).label for a in self.archs]

    def image_splits(self) -> ImageSplits:
        if self.images != "digits":
            raise ValueError(f"NetSpace zoo of {self.kind} networks has no image data ({self.images!r})")
        return load_digits_splits(self.image_seed)


@dataclass
class NetZooOptions:
    groups: list[int] = _field(default_factory=list)  # architecture groups used, in ClassId order; []: all
    images_per_batch: int = 128  # classifier zoos: images each batch of networks is run on (thesis: 128)
    repeats: int = 1  # passes over the train networks per epoch (fresh order and images each pass)


@dataclass
class ClassifierZooMake:
    """`data.make` of NetSpace: train a small classifier zoo at data.uri (inrzoo.classifiers)."""

    families: list[dict[str, Any]] = _field(default_factory=lambda: [
        {"preset": "lenet", "instances": 10, "min_epochs": 1, "max_epochs": 8},
        {"preset": "resnet8", "batch_norm": True, "instances": 10, "min_epochs": 1, "max_epochs": 4}])
    executor: Literal["ray", "local"] = "local"
    chunk_rows: int = 8


@dataclass
class NetBatch(TensorBatch):
    flat: torch.Tensor  # [B, P_max] canonical parameter rows, zero-padded (first field: the batch size)
    arch_ids: torch.Tensor  # [B] ClassId of each network
    rows: torch.Tensor  # [B] dataset rows
    images: torch.Tensor | None = None  # [N, C, S, S] (classifier zoos)
    labels: torch.Tensor | None = None  # [N]
    teacher_flat: torch.Tensor | None = None  # [1, P_max] the fixed teacher (classifier zoos)
    teacher_arch: torch.Tensor | None = None  # [1]


class NetZooData(DataSource):
    kind = "netspace_zoo"
    options_class = NetZooOptions
    spec_class = NetZooSpec
    make_class = ClassifierZooMake

    @classmethod
    def ready(cls, section: DataSection) -> bool:
        return WeightData.ready(section)  # a complete weight dataset, as for INR models

    @classmethod
    def make_data(cls, section: DataSection, settings: ClassifierZooMake) -> None:
        from inrzoo.classifiers import build_classifier_zoo, load_zoo_config

        overrides = [f"output.uri={section.uri}", f"runtime.executor={settings.executor}",
                     f"output.chunk_rows={settings.chunk_rows}", "output.overwrite=true",
                     f"families={json.dumps(settings.families)}"]
        build_classifier_zoo(load_zoo_config(None, overrides))

    def __init__(self, section: DataSection, dataset: WeightDataset | None = None) -> None:
        super().__init__(section)
        self.dataset = dataset if dataset is not None else open_weights(section.uri, section.storage_options)
        all_groups = list(range(len(self.dataset.groups)))
        self.groups = list(self.options.groups) or all_groups
        unknown = sorted(set(self.groups) - set(all_groups))
        if unknown:
            raise ValueError(f"{section.uri}: data.options.groups {unknown} are not architecture groups "
                             f"(the dataset has {all_groups})")
        keep = np.isin(self.dataset.columns["arch"][self.dataset.rows], self.groups)
        self.dataset = self.dataset.select(self.dataset.rows[keep])
        self.class_of = {group: i for i, group in enumerate(self.groups)}
        self.views = split_views(self.dataset, section.split)
        self._spec = self._make_spec()
        self._width = self._spec.max_params
        self._teacher: tuple[torch.Tensor, torch.Tensor] | None = None
        self._images: ImageSplits | None = None

    def _make_spec(self) -> NetZooSpec:
        specs = [self.dataset.arch_spec(g) for g in self.groups]
        if any(isinstance(s, dict) for s in specs):
            raise ValueError(f"{self.section.uri}: an architecture is not in inrzoo's registry; NetSpace needs "
                             f"to run every network it decodes")
        classifier = isinstance(specs[0], ClassifierSpec)
        if any(isinstance(s, ClassifierSpec) != classifier for s in specs):
            raise ValueError(f"{self.section.uri}: mixes classifiers and INRs; pick one kind with data.options.groups")
        seed = 0
        if classifier:
            config = self.dataset.attrs.get("config") or {}
            if (self.dataset.attrs.get("collection") or {}).get("name") != CLASSIFIER_COLLECTION:
                raise ValueError(f"{self.section.uri}: a classifier zoo must come from inrzoo.classifiers "
                                 f"(its images are recorded there)")
            seed = int(config.get("data_seed", 0))
        return NetZooSpec(archs=[s.to_dict() for s in specs], kind="classifier" if classifier else "sdf",
                          images="digits" if classifier else "", image_seed=seed)

    def spec(self) -> NetZooSpec:
        return self._spec

    def split_sizes(self) -> dict[str, int]:
        return {name: len(view) for name, view in self.views.items()}

    def flat_rows(self, view: WeightDataset) -> tuple[torch.Tensor, torch.Tensor]:
        """(flat parameter rows [N, P_max], ClassIds [N]) of every row of a view, in view order."""
        cols = view.columns
        groups = cols["arch"][view.rows]
        flat = torch.zeros(len(view), self._width)
        for group in np.unique(groups):
            members = np.flatnonzero(groups == group)
            params = view.read_params(cols["arch_row"][view.rows[members]], int(group))
            values = flatten_params(params)
            flat[torch.as_tensor(members), :values.shape[1]] = values
        ids = torch.as_tensor([self.class_of[int(g)] for g in groups], dtype=torch.long)
        return flat, ids

    def metrics_of(self, view: WeightDataset) -> list[dict[str, float]]:
        cols = view.columns
        out = []
        for row in view.rows:
            meta = json.loads(cols["meta"][row]) if cols["meta"][row] else {}
            out.append({k: float(v) for k, v in meta.get("metrics", {}).items() if isinstance(v, (int, float))})
        return out

    def teacher(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(flat row [1, P_max], ClassId [1]) of the train network with the best validation accuracy."""
        if self._teacher is None:
            view = self.views["train"]
            accuracies = [m.get("val_accuracy", -math.inf) for m in self.metrics_of(view)]
            if not accuracies or max(accuracies) == -math.inf:
                raise ValueError(f"{self.section.uri}: no train network records val_accuracy; no teacher")
            best = view.select(view.rows[[int(np.argmax(accuracies))]])
            self._teacher = self.flat_rows(best)
        return self._teacher

    def image_splits(self) -> ImageSplits:
        if self._images is None:
            self._images = self._spec.image_splits()
        return self._images

    def batches(self, split: str, batch_size: int, *, rank: int = 0, world: int = 1, epoch: int = 0,
                seed: int = 0, shuffle: bool = False, drop_last: bool = False) -> Iterator[NetBatch]:
        view = self.views[split]
        if world > 1:
            per = len(view) // world
            view = view.select(view.rows[rank * per:(rank + 1) * per])
        if len(view) == 0:
            return iter(())
        flat, ids = self.flat_rows(view)
        rows = torch.as_tensor(view.rows, dtype=torch.long)
        gen = torch.Generator().manual_seed((seed * 100_003 + epoch) * 1009 + rank)
        classifier = self._spec.kind == "classifier"
        images = self.image_splits().split("train" if split == "train" else "val") if classifier else None
        teacher = self.teacher() if classifier else (None, None)
        passes = self.options.repeats if split == "train" else 1
        return self._iterate(flat, ids, rows, passes, shuffle, drop_last, batch_size, images, teacher, gen)

    def _iterate(self, flat, ids, rows, passes, shuffle, drop_last, batch_size, images, teacher, gen) -> Iterator[NetBatch]:
        n = len(ids)
        stop = n - (n % batch_size if drop_last else 0)
        for _ in range(passes):
            order = torch.randperm(n, generator=gen) if shuffle else torch.arange(n)
            for start in range(0, stop, batch_size):
                picked = order[start:min(start + batch_size, stop)]
                x = y = None
                if images is not None:
                    chosen = torch.randint(len(images), (self.options.images_per_batch,), generator=gen)
                    x, y = images.images[chosen], images.labels[chosen]
                yield NetBatch(flat[picked], ids[picked], rows[picked], x, y, teacher[0], teacher[1])

    def digest(self) -> str:
        return self.dataset.digest()
