"""ClassifierSpec: the versioned, JSON-serializable description of one image-classifier architecture.

NetSpace (thesis ch. 4) learns from zoos of trained image classifiers of several families:
a LeNet-like network, a plain CNN and CIFAR-style ResNets trained with batch norm and stored
with it folded into the convolutions. A spec fixes everything a consumer needs to rebuild the
network and run the stored parameters (`inrzoo.inr.build(spec).forward`), so a weight dataset
of classifiers is as self-describing as one of INRs.

Families (all convolutions k x k with padding k // 2, leaky ReLU between layers as in the
NetSpace code):
- lenet: convolutions `channels` with `strides`, flatten, fully connected `hidden`, classes.
- plain_cnn: convolutions `channels` with `strides`, flatten, one fully connected layer.
- resnet: a stem convolution to channels[0], then len(channels) - 1 stages of `blocks` basic
  blocks (two convolutions and a shortcut, a 1x1 convolution where shape changes) of widths
  channels[1:], stage strides `strides`, global average pooling, one fully connected layer.
  Depth 6 * blocks + 2 for three stages (ResNet-8: blocks=1, ResNet-14: blocks=2).

norm: "batch" puts a BatchNorm2d after every convolution (training); stored networks are
always "none" (folded: `inrzoo.classifiers.fuse_batchnorm`), their convolutions carry a bias.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from inrzoo.inr.spec import SpecSerialization

CLASSIFIER_SPEC_VERSION = 1

Family = Literal["lenet", "plain_cnn", "resnet"]


@dataclass
class ClassifierSpec(SpecSerialization):
    name: Family = "lenet"
    channels: list[int] = field(default_factory=lambda: [6, 16])
    strides: list[int] = field(default_factory=lambda: [2, 2])
    hidden: list[int] = field(default_factory=lambda: [48, 32])
    blocks: int = 1
    kernel_size: int = 3
    norm: Literal["none", "batch"] = "none"
    negative_slope: float = 0.01
    in_channels: int = 1
    image_size: int = 8
    num_classes: int = 10
    spec_version: int = CLASSIFIER_SPEC_VERSION

    def __post_init__(self) -> None:
        where = f"ClassifierSpec {self.name!r}"
        if not self.channels or any(c <= 0 for c in self.channels):
            raise ValueError(f"{where}: channels must be positive, got {self.channels}")
        stages = len(self.channels) - 1 if self.name == "resnet" else len(self.channels)
        if len(self.strides) != stages or any(s <= 0 for s in self.strides):
            raise ValueError(f"{where}: needs {stages} positive strides (one per "
                             f"{'stage' if self.name == 'resnet' else 'convolution'}), got {self.strides}")
        if self.name != "lenet" and self.hidden:
            raise ValueError(f"{where}: only lenet has hidden fully connected layers, got hidden={self.hidden}")
        if self.name == "resnet" and (self.blocks < 1 or stages < 1):
            raise ValueError(f"{where}: needs blocks >= 1 and at least one stage")
        if self.kernel_size % 2 == 0:
            raise ValueError(f"{where}: kernel_size must be odd (padding k // 2 keeps the size), got {self.kernel_size}")
        if self.spec_version > CLASSIFIER_SPEC_VERSION:
            raise ValueError(f"{where}: spec_version {self.spec_version} is newer than this library "
                             f"understands ({CLASSIFIER_SPEC_VERSION})")
        if self.final_size() < 1:
            raise ValueError(f"{where}: strides {self.strides} shrink a {self.image_size}px image to nothing")

    def final_size(self) -> int:
        """Spatial side of the last feature map (each stride-s convolution: ceil(size / s))."""
        size = self.image_size
        for stride in self.strides:
            size = -(-size // stride)
        return size

    @property
    def depth(self) -> int:
        """Weighted layers: convolutions on the main path plus fully connected layers."""
        if self.name == "resnet":
            return 1 + 2 * self.blocks * (len(self.channels) - 1) + 1
        return len(self.channels) + len(self.hidden) + 1

    @classmethod
    def default(cls, name: str, **overrides) -> "ClassifierSpec":
        if name not in DEFAULTS:
            raise KeyError(f"unknown classifier architecture {name!r}; known: {sorted(DEFAULTS)}")
        return cls(**{**DEFAULTS[name], **overrides})

    @property
    def label(self) -> str:
        """Short human name: lenet-6-16, plain_cnn-8-16-32-32, resnet8-8-16-32."""
        widths = "-".join(map(str, self.channels))
        if self.name == "resnet":
            return f"resnet{self.depth}-{widths}"
        return f"{self.name}-{widths}"


# Sizes for 8x8 grey digits (scikit-learn's digits), chosen (the thesis sizes them for CIFAR-10
# and TinyImageNet): parameter counts grow lenet < plain_cnn < resnet8 < resnet14, like
# the thesis's LeNet-like < vanilla CNN < ResNet-8 < ResNet-32.
DEFAULTS: dict[str, dict] = {
    "lenet": {"name": "lenet", "channels": [6, 16], "strides": [2, 2], "hidden": [48, 32]},
    "plain_cnn": {"name": "plain_cnn", "channels": [8, 16, 32, 32], "strides": [1, 2, 1, 2], "hidden": []},
    "resnet8": {"name": "resnet", "channels": [8, 8, 16, 32], "strides": [1, 2, 2], "hidden": [], "blocks": 1},
    "resnet14": {"name": "resnet", "channels": [8, 8, 16, 32], "strides": [1, 2, 2], "hidden": [], "blocks": 2},
}
