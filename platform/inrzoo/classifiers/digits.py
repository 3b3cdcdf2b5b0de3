"""Image data of the classifier zoos: scikit-learn's handwritten digits (8x8 grey, 1,797 images).

scikit-learn ships the data in its wheel (the UCI optical recognition of handwritten digits
test set, 0-16 ink counts per pixel), so nothing is downloaded. The split is fixed and
stratified by class; pixels are scaled to [0, 1] and standardized with the training split's
mean and deviation (one scalar each, chosen).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

SOURCE = "scikit-learn load_digits (UCI optical recognition of handwritten digits), shipped in the scikit-learn wheel"
LICENCE = "CC BY 4.0 (UCI Machine Learning Repository)"
IMAGE_SHAPE = (1, 8, 8)
NUM_CLASSES = 10


@dataclass
class ImageSplit:
    images: torch.Tensor  # [N, 1, 8, 8] float32, standardized
    labels: torch.Tensor  # [N] int64

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def to(self, device: str | torch.device) -> "ImageSplit":
        return ImageSplit(self.images.to(device), self.labels.to(device))


@dataclass
class ImageSplits:
    train: ImageSplit
    val: ImageSplit
    test: ImageSplit
    mean: float
    std: float

    def to(self, device: str | torch.device) -> "ImageSplits":
        return ImageSplits(self.train.to(device), self.val.to(device), self.test.to(device), self.mean, self.std)

    def split(self, name: str) -> ImageSplit:
        if name not in ("train", "val", "test"):
            raise ValueError(f"unknown image split {name!r}; expected train, val or test")
        return getattr(self, name)


def load_digits_splits(seed: int = 0, val_fraction: float = 0.2, test_fraction: float = 0.2) -> ImageSplits:
    """Stratified train/val/test splits of the digits; the same seed gives the same splits anywhere."""
    from sklearn.datasets import load_digits

    if not (0 < val_fraction and 0 < test_fraction and val_fraction + test_fraction < 1):
        raise ValueError(f"digits: val_fraction {val_fraction} and test_fraction {test_fraction} must be "
                         f"positive and leave a training split")
    data = load_digits()
    images = data.images.astype(np.float32) / 16.0
    labels = data.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    for cls in range(NUM_CLASSES):
        members = rng.permutation(np.flatnonzero(labels == cls))
        n_val = int(round(val_fraction * len(members)))
        n_test = int(round(test_fraction * len(members)))
        parts["val"].append(members[:n_val])
        parts["test"].append(members[n_val:n_val + n_test])
        parts["train"].append(members[n_val + n_test:])
    index = {name: np.sort(np.concatenate(p)) for name, p in parts.items()}
    mean = float(images[index["train"]].mean())
    std = float(images[index["train"]].std())

    def split(rows: np.ndarray) -> ImageSplit:
        x = torch.from_numpy((images[rows] - mean) / std).unsqueeze(1)
        return ImageSplit(images=x.contiguous(), labels=torch.from_numpy(labels[rows]))

    return ImageSplits(train=split(index["train"]), val=split(index["val"]), test=split(index["test"]), mean=mean, std=std)


def minibatches(split: ImageSplit, batch_size: int, generator: torch.Generator | None = None):
    """Shuffled (images, labels) minibatches covering the split once (the last one may be short)."""
    order = torch.randperm(len(split), generator=generator).to(split.labels.device)
    for start in range(0, len(split), batch_size):
        rows = order[start:start + batch_size]
        yield split.images[rows], split.labels[rows]


@torch.no_grad()
def accuracy(logits_fn, split: ImageSplit, batch_size: int = 512) -> float:
    """Top-1 accuracy in [0, 1] of `logits_fn(images) -> [N, classes]` on a split."""
    correct = 0
    for start in range(0, len(split), batch_size):
        logits = logits_fn(split.images[start:start + batch_size])
        correct += int((logits.argmax(dim=-1) == split.labels[start:start + batch_size]).sum())
    return correct / max(len(split), 1)
