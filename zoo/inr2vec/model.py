"""inr2vec: the encoder over INR weight matrices joined with the implicit decoder (thesis ch. 5).

Trained to reproduce the function of its input INR: queries near each INR's own surface, the
INR's field there as the target (teacher.py), BCE (or MSE) between the decoded and the target
field. No meshes are read.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor

from inrzoo.zoo.components.implicit_decoder import ImplicitDecoder
from inrzoo.zoo.core.data import DataSource
from inrzoo.zoo.core.model import StepContext, ZooModel
from inrzoo.zoo.core.weights import WeightBatch, WeightSpec
from inrzoo.zoo.inr2vec.config import Inr2vecConfig
from inrzoo.zoo.inr2vec.encoder import Encoder, inr_matrix, matrix_rows
from inrzoo.zoo.inr2vec.teacher import field_from_decoder_output, teacher_targets


class Inr2vec(ZooModel):
    """Embeds stacked INR parameters and decodes (embedding, query) back to the INR's field.

    The spec's parameter shapes (the architecture's canonical `param_shapes`) fix the encoder
    input width (the INR hidden width H) and which tensors form the weight matrix; its field and
    fit loss say how the INR outputs are read (`config.teacher`, resolved against them).
    """

    name = "inr2vec"
    config_class = Inr2vecConfig

    def __init__(self, config: Inr2vecConfig, spec: WeightSpec, in_dim: int = 3) -> None:
        super().__init__(config, spec)
        self.teacher = config.teacher.resolved(spec.field, spec.fit_loss)
        self.param_shapes = spec.shapes
        self.in_dim = in_dim
        self.matrix_shape = matrix_rows(self.param_shapes, config.encoder.layers, in_dim)
        self.encoder = Encoder(self.matrix_shape[1], config.encoder)
        self.decoder = ImplicitDecoder(config.encoder.embedding_dim, config.decoder, out_dim=1, in_dim=in_dim)
        self.inr_forward = spec.architecture().forward
        if config.encoder.input_normalization == "standardize":
            self.register_buffer("input_mean", torch.zeros(self.matrix_shape))
            self.register_buffer("input_std", torch.ones(self.matrix_shape))

    @property
    def embedding_dim(self) -> int:
        return self.config.encoder.embedding_dim

    def matrices(self, params: Mapping[str, Tensor]) -> Tensor:
        """Stacked INR parameters (leading K axis) -> encoder input [K, rows, H]."""
        return inr_matrix(params, self.param_shapes, self.config.encoder.layers, self.in_dim)

    def encode(self, params: Mapping[str, Tensor]) -> Tensor:
        """Stacked INR parameters -> embeddings [K, embedding_dim]."""
        matrices = self.matrices(params)
        if self.config.encoder.input_normalization == "standardize":
            matrices = (matrices - self.input_mean) / self.input_std
        return self.encoder(matrices)

    def prepare(self, data: DataSource) -> None:
        """Before the first epoch: the input statistics over the train split (when standardizing)."""
        if self.config.encoder.input_normalization == "standardize":
            self.fit_input_normalization(batch.params for batch in data.batches("train", 256))

    @torch.no_grad()
    def fit_input_normalization(self, batches: Iterable[Mapping[str, Tensor]]) -> None:
        """Per-entry mean and deviation of the encoder input over batches of stacked training INRs."""
        if self.config.encoder.input_normalization != "standardize":
            raise ValueError("fit_input_normalization: encoder.input_normalization is not 'standardize'")
        total = torch.zeros(self.matrix_shape, dtype=torch.float64)
        squares = torch.zeros(self.matrix_shape, dtype=torch.float64)
        count = 0
        for params in batches:
            m = self.matrices({n: p.float() for n, p in params.items()}).double().cpu()
            total += m.sum(0)
            squares += (m * m).sum(0)
            count += m.shape[0]
        if count < 2:
            raise ValueError(f"fit_input_normalization: needs 2+ INRs, got {count}")
        mean = total / count
        std = ((squares - count * mean * mean).clamp_min(0) / (count - 1)).sqrt()
        self.input_mean.copy_(mean.to(self.input_mean))
        self.input_std.copy_(std.clamp_min(1e-8).to(self.input_std))

    def decode(self, embeddings: Tensor, queries: Tensor) -> Tensor:
        """Raw decoder output [K, N] (BCE logits or field values, per `config.loss`)."""
        return self.decoder(embeddings, queries)

    def decode_field(self, embeddings: Tensor, queries: Tensor) -> Tensor:
        """The decoded field value (sdf / udf / occupancy) at queries [K, N, 3] -> [K, N]."""
        return field_from_decoder_output(self.decode(embeddings, queries), self.teacher, self.config.loss)

    def forward(self, params: Mapping[str, Tensor], queries: Tensor) -> Tensor:
        return self.decode(self.encode(params), queries)

    def reconstruction(self, params: Mapping[str, Tensor], embeddings: Tensor, step: StepContext) -> dict[str, Tensor]:
        """The reconstruction loss of INRs `params` from their embeddings, at fresh teacher queries
        ("loss"), and for BCE what of it the decoder can still remove ("kl", logged only)."""
        queries, targets = teacher_targets(self.inr_forward, params, self.teacher, self.config.loss, step.generator)
        loss = reconstruction_loss(self.decode(embeddings, queries), targets, self.config.loss)
        if self.config.loss != "bce":
            return {"loss": loss}
        return {"loss": loss, "kl": loss.detach() - bernoulli_entropy(targets)}

    def losses(self, batch: WeightBatch, step: StepContext) -> dict[str, Tensor]:
        return self.reconstruction(batch.params, self.encode(batch.params), step)


def reconstruction_loss(output: Tensor, targets: Tensor, loss: str) -> Tensor:
    """BCE between decoder logits and labels in [0, 1], or MSE between fields."""
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(output, targets)
    if loss == "mse":
        return F.mse_loss(output, targets)
    raise ValueError(f"loss must be 'bce' or 'mse', got {loss!r}")


def bernoulli_entropy(labels: Tensor) -> Tensor:
    """Mean entropy of Bernoulli labels in [0, 1]: the floor of BCE with continuous labels.

    Near-surface labels sit around 0.5, so BCE on inr2vec's queries cannot go much below ~0.5
    (measured on KiCad INRs: 0.48-0.5); BCE minus this floor is the KL divergence from the
    targets, which goes to 0 for a perfect decoder, so progress is read from it."""
    p = labels.clamp(1e-7, 1 - 1e-7)
    return -(p * p.log() + (1 - p) * (1 - p).log()).mean()
