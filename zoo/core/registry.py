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
        "drapenet-drape": "inrzoo.zoo.drapenet.draping.model:DrapeNetDraping",
        "inr2vec": "inrzoo.zoo.inr2vec.model:Inr2vec",
        "linear": "inrzoo.zoo.linear.model:LinearAutoencoder",
        "netspace": "inrzoo.zoo.netspace.model:NetSpace",
        "nfn": "inrzoo.zoo.nfn.model:NFNClassifier",
        "drapenet": "inrzoo.zoo.drapenet.model:DrapeNetGarments",
    },
    "data": {
        "drape": "inrzoo.zoo.drapenet.draping.data:DrapeData",
        "weights": "inrzoo.zoo.core.weights:WeightData",
        "netspace_zoo": "inrzoo.zoo.netspace.data:NetZooData",
        "garments": "inrzoo.zoo.drapenet.source:GarmentData",
    },
    "task": {
        "drape_metrics": "inrzoo.zoo.drapenet.draping.evaluate:DrapeMetricsTask",
        "classification": "inrzoo.zoo.tasks.classification:ClassificationTask",
        "retrieval": "inrzoo.zoo.tasks.retrieval:RetrievalTask",
        "reconstruction": "inrzoo.zoo.tasks.reconstruction:ReconstructionTask",
        "plots": "inrzoo.zoo.tasks.plots:PlotsTask",
        "generation": "inrzoo.zoo.tasks.generation:GenerationTask",
        "transfer": "inrzoo.zoo.tasks.transfer:TransferTask",
        "segmentation": "inrzoo.zoo.tasks.segmentation:SegmentationTask",
        "multitask": "inrzoo.zoo.inr2vec.multitask_task:MultitaskTask",
        "netspace_decoding": "inrzoo.zoo.netspace.tasks:DecodingTask",
        "netspace_interpolation": "inrzoo.zoo.netspace.tasks:InterpolationTask",
        "netspace_sampling": "inrzoo.zoo.netspace.tasks:SamplingTask",
        "netspace_latent": "inrzoo.zoo.netspace.tasks:LatentTask",
        "garment_reconstruction": "inrzoo.zoo.drapenet.tasks:GarmentReconstructionTask",
        "garment_interpolation": "inrzoo.zoo.drapenet.tasks:GarmentInterpolationTask",
        "garment_editing": "inrzoo.zoo.drapenet.tasks:GarmentEditingTask",
        "garment_fitting": "inrzoo.zoo.drapenet.tasks:GarmentFittingTask",
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
