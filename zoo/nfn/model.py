"""The NFN classifier in the zoo ("nfn"): a permutation-invariant neural functional (Zhou et al.
2023, NFN_NP with IO encoding; network.py) trained with cross entropy on the labels of a weight
dataset.

Input: the INRs' weights as one-channel weight-space features, standardized per layer with the
training split's statistics (kept in a buffer, so model files carry them). Loss: cross entropy over
the labeled rows of a batch (label -1 means none; a batch without labels contributes zero).
Embedding (the core's Encoder protocol, so the classification and retrieval tasks apply): the
invariant pooled vector the classifier head reads (HNPPool's output), the same features the
weight-space benchmark ranks retrieval by.
"""

from __future__ import annotations

from typing import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor

from inrzoo.zoo.core.model import StepContext, ZooModel
from inrzoo.zoo.core.weights import WeightBatch, WeightSpec
from inrzoo.zoo.nfn.network import (
    Features,
    HNPPool,
    InvariantNFN,
    LayerStandardizer,
    NFNConfig,
    features_from_params,
    layer_sizes,
)

# Batches of training INRs read for the standardization statistics (every row of the train split).
STATISTICS_BATCH = 256


class NFNClassifier(ZooModel):
    name = "nfn"
    config_class = NFNConfig

    def __init__(self, config: NFNConfig, spec: WeightSpec) -> None:
        super().__init__(config, spec)
        classes = len(spec.label_names)
        if classes < 2:
            raise ValueError(f"model nfn classifies the dataset's labels: it needs 2 or more label names, got "
                             f"{spec.label_names!r} (convert with labels, e.g. an index.csv with a label column)")
        self.param_shapes = spec.shapes
        sizes = layer_sizes(self.param_shapes)
        self.network = InvariantNFN(sizes, classes, config)
        self.embedding_dim = HNPPool.size(sizes, config.hidden_channels[-1] if config.hidden_channels
                                          else config.input_channels + self.network.io.channels)
        # (weight mean, weight deviation, bias mean, bias deviation) per layer; identity until prepare().
        identity = torch.tensor([0.0, 1.0, 0.0, 1.0]).repeat(len(sizes) - 1, 1)
        self.register_buffer("layer_stats", identity)

    def prepare(self, data) -> None:
        """Before the first epoch: the per-layer statistics of the train split's weights."""
        weights: list[list[Tensor]] = []
        biases: list[list[Tensor]] = []
        for batch in data.batches("train", STATISTICS_BATCH):
            w, b = features_from_params({n: p.float() for n, p in batch.params.items()}, self.param_shapes)
            weights.append(w)
            biases.append(b)
        if not weights:
            raise ValueError("model nfn: the train split is empty; no statistics to standardize the weights with")
        merged = ([torch.cat(layer) for layer in zip(*weights)], [torch.cat(layer) for layer in zip(*biases)])
        self.layer_stats.copy_(LayerStandardizer(merged).stats.to(self.layer_stats))

    def features(self, params: Mapping[str, Tensor]) -> Features:
        standardize = LayerStandardizer(stats=self.layer_stats)
        return standardize(features_from_params({n: p.float() for n, p in params.items()}, self.param_shapes))

    def logits(self, params: Mapping[str, Tensor]) -> Tensor:
        return self.network(self.features(params))

    def encode(self, params: Mapping[str, Tensor]) -> Tensor:
        return self.network.pooled(self.features(params))

    def losses(self, batch: WeightBatch, step: StepContext) -> dict[str, Tensor]:
        labeled = batch.labels >= 0
        logits = self.logits(batch.params)
        if not bool(labeled.any()):
            zero = logits.sum() * 0.0  # keeps the graph (DDP expects every parameter used)
            return {"loss": zero, "train_accuracy": zero.detach()}
        target = batch.labels[labeled].long()
        chosen = logits[labeled]
        return {"loss": F.cross_entropy(chosen, target),
                "train_accuracy": (chosen.argmax(-1) == target).float().mean().detach()}
