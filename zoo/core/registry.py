"""Registries by name, imported lazily: zoo models, data sources and tasks.

A name maps to "module:attribute"; nothing is imported until the name is asked for, so listing
the zoo or parsing a config never loads every model's code. Models, data sources and tasks of
packages outside this repository register with `register(kind, name, target)`.
"""

from __future__ import annotations

import importlib
from typing import Any

# kind -> name -> "module:attribute"
_ENTRIES: dict[str, dict[str, str | Any]] = {
    "model": {
        "inr2vec": "inrzoo.zoo.inr2vec.model:Inr2vec",
        "linear": "inrzoo.zoo.linear.model:LinearAutoencoder",
    },
    "data": {
        "weights": "inrzoo.zoo.core.weights:WeightData",
    },
    "task": {
        "classification": "inrzoo.zoo.tasks.classification:ClassificationTask",
        "retrieval": "inrzoo.zoo.tasks.retrieval:RetrievalTask",
        "reconstruction": "inrzoo.zoo.tasks.reconstruction:ReconstructionTask",
        "plots": "inrzoo.zoo.tasks.plots:PlotsTask",
        "generation": "inrzoo.zoo.tasks.generation:GenerationTask",
        "transfer": "inrzoo.zoo.tasks.transfer:TransferTask",
        "segmentation": "inrzoo.zoo.tasks.segmentation:SegmentationTask",
        "multitask": "inrzoo.zoo.inr2vec.multitask_task:MultitaskTask",
    },
}


class UnknownName(KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; this one is a sentence
        return str(self.args[0])


def register(kind: str, name: str, target: str | Any) -> None:
    """Add (or replace) `name` under `kind`; `target` is "module:attribute" or the object itself."""
    _ENTRIES.setdefault(kind, {})[name] = target


def names(kind: str) -> list[str]:
    return sorted(_ENTRIES.get(kind, {}))


def resolve(kind: str, name: str) -> Any:
    """The object registered as `name` under `kind` (imported on first use)."""
    entries = _ENTRIES.get(kind, {})
    if name not in entries:
        raise UnknownName(f"unknown {kind} {name!r}; known: {', '.join(sorted(entries)) or 'none'}")
    target = entries[name]
    if isinstance(target, str):
        module, _, attribute = target.partition(":")
        target = getattr(importlib.import_module(module), attribute)
        entries[name] = target
    return target
