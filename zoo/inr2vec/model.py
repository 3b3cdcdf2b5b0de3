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
from inrzoo.zoo.inr2vec.encoder import Encoder, inr_matrix, matrix_blocks, matrix_rows
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
        normalization = config.encoder.input_normalization
        # "centered" gives each row its delta and, beside it, the training mean of that row
        width = self.matrix_shape[1] * (2 if normalization == "centered" else 1)
        self.encoder = Encoder(width, config.encoder)
        self.decoder = ImplicitDecoder(config.encoder.embedding_dim, config.decoder, out_dim=1, in_dim=in_dim)
        self.inr_forward = spec.architecture().forward
        if normalization != "none":  # every normalization is a function of the per-entry mean and deviation
            self.register_buffer("input_mean", torch.zeros(self.matrix_shape))
            self.register_buffer("input_std", torch.ones(self.matrix_shape))
            blocks = matrix_blocks(self.param_shapes, config.encoder.layers, in_dim)
            self.register_buffer("input_blocks", blocks, persistent=False)

    @property
    def embedding_dim(self) -> int:
        return self.config.encoder.embedding_dim

    def matrices(self, params: Mapping[str, Tensor]) -> Tensor:
        """Stacked INR parameters (leading K axis) -> encoder input [K, rows, H]."""
        return inr_matrix(params, self.param_shapes, self.config.encoder.layers, self.in_dim)

    def encode(self, params: Mapping[str, Tensor]) -> Tensor:
        """Stacked INR parameters -> embeddings [K, embedding_dim]."""
        return self.encoder(self.normalized(self.matrices(params)))

    def normalized(self, matrices: Tensor) -> Tensor:
        """The encoder input [K, rows, H] as `config.encoder.input_normalization` asks (see EncoderConfig)."""
        mode = self.config.encoder.input_normalization
        if mode == "none":
            return matrices
        if mode == "standardize":
            return (matrices - self.input_mean) / self.input_std
        if mode == "tensor_scale":
            return matrices / self._block_rms(self.input_std.square() + self.input_mean.square())
        if mode == "centered":
            delta = (matrices - self.input_mean) / self._block_rms(self.input_std.square())
            identity = self.input_mean / self._block_rms(self.input_mean.square())
            return torch.cat([delta, identity.expand_as(delta)], dim=-1)
        raise ValueError(f"encoder.input_normalization {mode!r} is not one of none, standardize, tensor_scale, centered")

    def _block_rms(self, squares: Tensor) -> Tensor:
        """[rows, H] mean squares per entry -> [rows, 1]: the root mean over each row's tensor.
        Derived from the buffers at each call (a [rows, H] sum, small beside the encoder) so that a
        loaded model file needs no state beyond the mean and the deviation."""
        blocks = self.input_blocks
        count = int(blocks.max()) + 1
        sums = squares.new_zeros(count).index_add_(0, blocks, squares.sum(1))
        sizes = torch.bincount(blocks, minlength=count).to(squares) * squares.shape[1]
        return (sums / sizes).sqrt().clamp_min(1e-8)[blocks].unsqueeze(1)

    def prepare(self, data: DataSource) -> None:
        """Before the first epoch: the input statistics over the train split (when normalizing)."""
        if self.config.encoder.input_normalization != "none":
            self.fit_input_normalization(batch.params for batch in data.batches("train", 256))

    @torch.no_grad()
    def fit_input_normalization(self, batches: Iterable[Mapping[str, Tensor]]) -> None:
        """Per-entry mean and deviation of the encoder input over batches of stacked training INRs."""
        if self.config.encoder.input_normalization == "none":
            raise ValueError("fit_input_normalization: encoder.input_normalization is 'none'")
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
