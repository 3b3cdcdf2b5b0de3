"""The zoos NetSpace learns from, read from weight datasets into PReps.

A classifier zoo (built by `inrzoo.classifiers.build_classifier_zoo`) has one architecture
group per family; the group index is the architecture id the ClassId head predicts. An SDF zoo
(a conversion with independent initializations) has one MLP architecture.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from inrzoo.inr import params_to_prep
from inrzoo.store import open_weights


@dataclass
class ZooNetworks:
    preps: torch.Tensor  # [N, 1, H, W]
    arch_ids: torch.Tensor  # [N] group index in the dataset
    archs: list  # inrzoo.inr architectures by group index
    ids: list[str]
    rows: np.ndarray  # dataset rows
    metrics: list[dict[str, float]]

    def __len__(self) -> int:
        return int(self.arch_ids.shape[0])

    def to(self, device: str | torch.device) -> "ZooNetworks":
        return ZooNetworks(self.preps.to(device), self.arch_ids.to(device), self.archs, self.ids, self.rows, self.metrics)

    def subset(self, index: torch.Tensor | list[int]) -> "ZooNetworks":
        idx = torch.as_tensor(index, dtype=torch.long, device=self.preps.device)
        keep = idx.tolist()
        return ZooNetworks(self.preps[idx], self.arch_ids[idx], self.archs, [self.ids[i] for i in keep],
                           self.rows[keep], [self.metrics[i] for i in keep])


def load_zoo(uri: str, prep_shape: tuple[int, int], split: Any = None, arch: int | None = None,
             storage_options: dict | None = None) -> ZooNetworks:
    """All ok rows of `split` (of architecture group `arch`, or all) as PReps [N, 1, H, W]."""
    view = open_weights(uri, storage_options, split=split, arch=arch)
    if len(view) == 0:
        raise ValueError(f"{uri}: no networks with status ok in split {split!r}")
    archs = [view.architecture(g) for g in range(len(view.groups))]
    cols = view.columns
    groups = cols["arch"][view.rows]
    preps = torch.zeros(len(view), 1, *prep_shape)
    for g in np.unique(groups):
        members = np.flatnonzero(groups == g)
        params = view.read_params(cols["arch_row"][view.rows[members]], int(g))
        preps[torch.as_tensor(members), 0] = params_to_prep(params, prep_shape)
    metrics = []
    for row in view.rows:
        meta = json.loads(cols["meta"][row]) if cols["meta"][row] else {}
        metrics.append({k: v for k, v in meta.get("metrics", {}).items() if isinstance(v, (int, float))})
    return ZooNetworks(preps=preps, arch_ids=torch.as_tensor(groups.astype(np.int64)), archs=archs,
                       ids=[str(cols["id"][r]) for r in view.rows], rows=view.rows.copy(), metrics=metrics)


def best_network(zoo: ZooNetworks, metric: str = "val_accuracy") -> int:
    """Index of the network with the highest recorded `metric` (the fixed teacher)."""
    values = [m.get(metric, float("-inf")) for m in zoo.metrics]
    if not values or max(values) == float("-inf"):
        raise ValueError(f"no network records {metric!r}; classifier zoos record it per row")
    return int(np.argmax(values))


def network_logits(zoo: ZooNetworks, index: int):
    """images -> logits of network `index` of the zoo, run from its exact PRep."""
    from inrzoo.zoo.netspace.model import run_decoded

    prep, arch = zoo.preps[index:index + 1], zoo.arch_ids[index:index + 1]
    return lambda images: run_decoded(prep, arch, zoo.archs, images)[0]


def zoo_prep_shape(uri: str, width: int, groups: list[int] | None = None,
                   storage_options: dict | None = None) -> tuple[int, int]:
    """The smallest PRep of the given width that holds every architecture (or those of `groups`)."""
    from inrzoo.inr import prep_shape

    view = open_weights(uri, storage_options, status=None)
    groups = list(range(len(view.groups))) if groups is None else groups
    return prep_shape(max(view.architecture(g).num_params for g in groups), width)


def one_architecture(zoo: ZooNetworks, arch: int) -> ZooNetworks:
    """The networks of one architecture as a one-architecture zoo (ids 0, archs [that one])."""
    members = torch.nonzero(zoo.arch_ids == arch).flatten()
    sub = zoo.subset(members)
    return ZooNetworks(sub.preps, torch.zeros_like(sub.arch_ids), [zoo.archs[arch]], sub.ids, sub.rows, sub.metrics)
