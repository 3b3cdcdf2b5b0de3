"""The torch modules of the classifier families described by `ClassifierSpec`.

Every convolution is a `ConvNorm` (a convolution and, with norm="batch", its BatchNorm2d), so
a trained batch-norm network and its folded twin share parameter names up to the norm layers,
and the folded twin's parameter order is weight then bias per layer (the PRep order).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from inrzoo.inr.classifier_spec import ClassifierSpec


class ConvNorm(nn.Module):
    """Conv2d (bias only without a norm) followed by BatchNorm2d or nothing."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, norm: str):
        super().__init__()
        batch = norm == "batch"
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=not batch)
        self.norm = nn.BatchNorm2d(c_out) if batch else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        return x if self.norm is None else self.norm(x)


class LeNetLike(nn.Module):
    def __init__(self, spec: ClassifierSpec):
        super().__init__()
        self.slope = spec.negative_slope
        k, c_in = spec.kernel_size, spec.in_channels
        self.convs = nn.ModuleList()
        for c_out, stride in zip(spec.channels, spec.strides):
            self.convs.append(ConvNorm(c_in, c_out, k, stride, spec.norm))
            c_in = c_out
        widths = [c_in * spec.final_size() ** 2, *spec.hidden, spec.num_classes]
        self.fcs = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            x = F.leaky_relu(conv(x), self.slope)
        x = torch.flatten(x, 1)
        for fc in self.fcs[:-1]:
            x = F.leaky_relu(fc(x), self.slope)
        return self.fcs[-1](x)


class PlainCNN(LeNetLike):
    """Convolutions then one fully connected layer (the thesis's "vanilla CNN"): LeNetLike
    with no hidden fully connected layers, which ClassifierSpec enforces for this family."""


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int, spec: ClassifierSpec):
        super().__init__()
        self.slope = spec.negative_slope
        k = spec.kernel_size
        self.conv1 = ConvNorm(c_in, c_out, k, stride, spec.norm)
        self.conv2 = ConvNorm(c_out, c_out, k, 1, spec.norm)
        reshape = stride != 1 or c_in != c_out
        self.shortcut = ConvNorm(c_in, c_out, 1, stride, spec.norm) if reshape else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(F.leaky_relu(self.conv1(x), self.slope))
        identity = x if self.shortcut is None else self.shortcut(x)
        return F.leaky_relu(out + identity, self.slope)


class ResNet(nn.Module):
    def __init__(self, spec: ClassifierSpec):
        super().__init__()
        self.slope = spec.negative_slope
        self.stem = ConvNorm(spec.in_channels, spec.channels[0], spec.kernel_size, 1, spec.norm)
        stages, c_in = [], spec.channels[0]
        for c_out, stride in zip(spec.channels[1:], spec.strides):
            blocks = [BasicBlock(c_in if i == 0 else c_out, c_out, stride if i == 0 else 1, spec)
                      for i in range(spec.blocks)]
            stages.append(nn.Sequential(*blocks))
            c_in = c_out
        self.stages = nn.Sequential(*stages)
        self.fc = nn.Linear(c_in, spec.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.stem(x), self.slope)
        x = self.stages(x)
        return self.fc(x.mean(dim=(2, 3)))


FAMILIES = {"lenet": LeNetLike, "plain_cnn": PlainCNN, "resnet": ResNet}


def classifier_module(spec: ClassifierSpec, seed: int | None = None) -> nn.Module:
    """A fresh module for `spec`, initialized by torch's defaults (from `seed` when given,
    without touching the global random state)."""
    if seed is None:
        return FAMILIES[spec.name](spec)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return FAMILIES[spec.name](spec)
