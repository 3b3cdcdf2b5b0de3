"""Data sources: what feeds a zoo model, chosen by the model's `data_kind`.

The job config's `data:` section (`DataSection`) names where the data lives and how it is split;
`options` holds what one kind of source needs beyond that, checked against the source's own
typed `options_class`. A source hands out its `spec` (what the model is built from and what the
exported model file records), the sizes of its splits, batches for one worker's shard of a split
(reproducible from seed and epoch), and a content digest for lineage.
"""

from __future__ import annotations

import abc
import logging
import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterator

from inrzoo import config as configlib

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


@dataclass
class SplitSection:
    """Named splits are used when the data has them; otherwise a seeded split by source shape
    (augmented copies follow their original), stratified by label."""

    train: str = "train"
    val: str = "val"
    test: str = "test"
    seed: int = 0
    val_fraction: float = 0.0
    test_fraction: float = 0.25

    def __post_init__(self) -> None:
        if not 0 <= self.val_fraction + self.test_fraction < 1:
            raise ValueError(f"val_fraction + test_fraction must be in [0, 1), got "
                             f"{self.val_fraction} + {self.test_fraction}")


@dataclass
class DataSection:
    uri: str = ""
    storage_options: dict[str, Any] = field(default_factory=dict)
    split: SplitSection = field(default_factory=SplitSection)
    options: dict[str, Any] = field(default_factory=dict)  # the data source's own settings
    # How to make the data at `uri` when it is not there yet (the source's `make_class` settings;
    # smoke configs make theirs from what the repository ships). Empty: the data must exist.
    make: dict[str, Any] = field(default_factory=dict)


class DataSource(abc.ABC):
    kind: ClassVar[str]
    options_class: ClassVar[type | None] = None
    spec_class: ClassVar[type]
    make_class: ClassVar[type | None] = None

    def __init__(self, section: DataSection) -> None:
        if not section.uri:
            raise configlib.ConfigError("data.uri is required: where the training data lives")
        self.section = section
        options_class = self.options_class
        if options_class is None:
            if section.options:
                raise configlib.ConfigError(f"data.options: a {self.kind} source takes no options, got {section.options}")
            self.options = None
        else:
            self.options = configlib.convert(options_class, section.options, "data.options", f"data source {self.kind}")

    @abc.abstractmethod
    def spec(self) -> Any:
        """What a model is built from (an instance of `spec_class`, a dataclass)."""

    @abc.abstractmethod
    def split_sizes(self) -> dict[str, int]:
        """Items per split ("train", "val", "test")."""

    @abc.abstractmethod
    def batches(self, split: str, batch_size: int, *, rank: int = 0, world: int = 1, epoch: int = 0,
                seed: int = 0, shuffle: bool = False, drop_last: bool = False) -> Iterator[Any]:
        """Batches of worker `rank`'s shard of `split` (all of it when world == 1); each batch has
        `.size` and `.to(device)`. Shards have equal sizes so that DDP workers step together."""

    @abc.abstractmethod
    def digest(self) -> str:
        """Content digest of the data (lineage in MLflow and on registered models)."""

    @classmethod
    def ready(cls, section: DataSection) -> bool:
        """Whether complete data is at section.uri (sources that can make data answer this)."""
        return True

    @classmethod
    def make_data(cls, section: DataSection, settings: Any) -> None:
        """Make the data at section.uri from `settings` (an instance of make_class)."""
        raise TypeError(f"a {cls.kind} data source cannot make its data; remove data.make")

    def name(self) -> str:
        """A short name for run names: the last part of the URI without its extension."""
        stem = self.section.uri.rstrip("/").rsplit("/", 1)[-1]
        return stem.rsplit(".", 1)[0] if "." in stem else stem

    def describe(self) -> str:
        sizes = self.split_sizes()
        return f"{self.section.uri}: " + ", ".join(f"{k} {sizes.get(k, 0)}" for k in SPLITS)


def open_data(kind: str, section: DataSection) -> DataSource:
    """The data source of `kind` over `section`, made first if `data.make` says how and it is missing."""
    from inrzoo.zoo.core.registry import resolve

    cls = resolve("data", kind)
    if section.make and not cls.ready(section):
        if cls.make_class is None:
            raise configlib.ConfigError(f"data.make: a {kind} data source cannot make its data")
        settings = configlib.convert(cls.make_class, section.make, "data.make", f"data source {kind}")
        log.info("making the %s data at %s", kind, section.uri)
        cls.make_data(section, settings)
    return cls(section)


def spec_from_dict(kind: str, data: dict[str, Any]) -> Any:
    """A data spec back from the plain data an exported model file records."""
    from inrzoo.zoo.core.registry import resolve

    return configlib.from_dict(resolve("data", kind).spec_class, data, source=f"{kind} spec")


class TensorBatch:
    """Mixin for a batch dataclass of tensors (None allowed): `.to(device)` moves every field,
    `.size` is the length of the first field. The core's loop needs only these two."""

    @property
    def size(self) -> int:
        return int(getattr(self, dataclasses.fields(self)[0].name).shape[0])

    def to(self, device: Any):
        if device is None:
            return self
        return dataclasses.replace(self, **{f.name: None if getattr(self, f.name) is None else getattr(self, f.name).to(device)
                                            for f in dataclasses.fields(self)})
