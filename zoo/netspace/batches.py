"""Training batches of a classifier space: networks of the zoo with a minibatch of images.

Each batch pairs `networks` PReps drawn from the zoo (a fresh permutation per pass) with
`images` training images, and carries the targets of the KD loss: the logits of each input
network on those images (loss.teacher = "input"; thesis, one architecture) or of one fixed
teacher network (loss.teacher = "best"; thesis, several architectures).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from inrzoo.classifiers import ImageSplit
from inrzoo.zoo.netspace.data import ZooNetworks, best_network, network_logits
from inrzoo.zoo.netspace.model import run_decoded


@dataclass
class ClassifierBatch:
    preps: torch.Tensor  # [B, 1, H, W]
    arch_ids: torch.Tensor  # [B]
    images: torch.Tensor  # [N, 1, 8, 8]
    labels: torch.Tensor  # [N]
    teacher_logits: torch.Tensor  # [B, N, C] (input) or [N, C] (best)


def teacher_function(zoo: ZooNetworks, teacher: str) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """The fixed teacher (images -> logits) for loss.teacher = "best"; None for "input"."""
    if teacher == "input":
        return None
    if teacher == "best":
        return network_logits(zoo, best_network(zoo))
    raise ValueError(f"unknown teacher {teacher!r}; expected 'input' or 'best'")


def classifier_batches(zoo: ZooNetworks, images: ImageSplit, networks: int, image_batch: int, teacher: str,
                       seed: int = 0, fixed_teacher: Callable | None = None) -> Iterator[ClassifierBatch]:
    """An endless stream of batches (deterministic for a seed)."""
    if len(zoo) == 0:
        raise ValueError("classifier_batches: the zoo has no networks")
    gen = torch.Generator().manual_seed(seed)
    fixed = fixed_teacher if fixed_teacher is not None else teacher_function(zoo, teacher)
    while True:
        order = torch.randperm(len(zoo), generator=gen)
        image_order = torch.randperm(len(images), generator=gen)
        for start in range(0, len(zoo) - networks + 1 if len(zoo) >= networks else 1, networks):
            picked = order[start:start + networks].to(zoo.preps.device)
            rows = image_order[torch.randint(len(images), (image_batch,), generator=gen)].to(images.labels.device)
            x, y = images.images[rows], images.labels[rows]
            with torch.no_grad():
                if fixed is None:
                    target = torch.stack(run_decoded(zoo.preps[picked], zoo.arch_ids[picked], zoo.archs, x))
                else:
                    target = fixed(x)
            yield ClassifierBatch(zoo.preps[picked], zoo.arch_ids[picked], x, y, target)
