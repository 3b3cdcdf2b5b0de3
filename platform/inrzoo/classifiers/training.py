"""Training one classifier instance of a zoo: a seed, a training length, batch norm folded at the end.

Chosen (the thesis trains on CIFAR-10/TinyImageNet with Adam 1e-4 for the single-architecture
zoos, SGD 0.05 for the multi-architecture one): Adam, cross-entropy, shuffled minibatches, no
augmentation. The seed fixes the initialization and the minibatch order. Networks whose spec
asks for batch norm are trained with it and returned folded (`fuse_batchnorm`), so the stored
parameters are plain weights and biases.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from inrzoo.classifiers.digits import ImageSplits, accuracy, minibatches
from inrzoo.classifiers.fusion import fuse_batchnorm
from inrzoo.inr.classifier_nets import classifier_module
from inrzoo.inr.classifier_spec import ClassifierSpec

log = logging.getLogger(__name__)


@dataclass
class InstanceTraining:
    lr: float = 1e-3
    batch_size: int = 64
    weight_decay: float = 0.0


@dataclass
class TrainedInstance:
    params: dict[str, torch.Tensor]  # folded parameters, canonical order, no K axis
    spec: ClassifierSpec  # the stored (folded) spec
    metrics: dict[str, float]


def train_instance(spec: ClassifierSpec, seed: int, epochs: int, data: ImageSplits,
                   cfg: InstanceTraining | None = None) -> TrainedInstance:
    """Train `spec` from `seed` for `epochs` epochs on data.train; fold batch norm; measure accuracy."""
    cfg = cfg or InstanceTraining()
    if epochs < 0:
        raise ValueError(f"{spec.label}: epochs must be >= 0, got {epochs}")
    started = time.perf_counter()
    net = classifier_module(spec, seed=seed)
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    generator = torch.Generator().manual_seed(int(seed))
    steps, loss_value = 0, float("nan")
    for epoch in range(epochs):
        net.train()
        for images, labels in minibatches(data.train, cfg.batch_size, generator):
            if len(labels) < 2 and spec.norm == "batch":
                continue  # batch norm needs two samples for batch statistics
            loss = F.cross_entropy(net(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            steps += 1
            loss_value = float(loss.detach())
    net.eval()
    fused, fused_spec = fuse_batchnorm(net, spec)
    metrics = {
        "train_accuracy": accuracy(fused, data.train),
        "val_accuracy": accuracy(fused, data.val),
        "test_accuracy": accuracy(fused, data.test),
        "test_accuracy_unfused": accuracy(net, data.test),
        "final_loss": loss_value,
        "steps": steps,
        "epochs": epochs,
        "seed": seed,
        "seconds": time.perf_counter() - started,
    }
    log.info("%s seed %d, %d epochs: test accuracy %.4f (%.1fs)", fused_spec.label, seed, epochs,
             metrics["test_accuracy"], metrics["seconds"])
    params = {name: p.detach().clone() for name, p in fused.named_parameters()}
    return TrainedInstance(params=params, spec=fused_spec, metrics=metrics)
