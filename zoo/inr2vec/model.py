"""inr2vec: the encoder over INR weight matrices joined with the implicit decoder."""

from __future__ import annotations

from typing import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inrzoo.zoo.inr2vec.config import Inr2vecConfig
from inrzoo.zoo.inr2vec.decoder import ImplicitDecoder
from inrzoo.zoo.inr2vec.encoder import Encoder, inr_matrix, matrix_rows
from inrzoo.zoo.inr2vec.teacher import field_from_decoder_output


class Inr2vec(nn.Module):
    """Embeds stacked INR parameters and decodes (embedding, query) back to the INR's field.

    `param_shapes` is the architecture's canonical `build(spec).param_shapes()`; it fixes the
    encoder input width (the INR hidden width H) and which tensors form the weight matrix.
    """

    def __init__(self, param_shapes: Mapping[str, Sequence[int]], config: Inr2vecConfig | None = None,
                 in_dim: int = 3) -> None:
        super().__init__()
        self.config = config or Inr2vecConfig()
        self.param_shapes = {name: tuple(int(s) for s in shape) for name, shape in param_shapes.items()}
        self.in_dim = in_dim
        self.matrix_shape = matrix_rows(self.param_shapes, self.config.encoder.layers, in_dim)
        self.encoder = Encoder(self.matrix_shape[1], self.config.encoder)
        self.decoder = ImplicitDecoder(self.config.encoder.embedding_dim, self.config.decoder, out_dim=1, in_dim=in_dim)
        if self.config.encoder.input_normalization == "standardize":
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

    @torch.no_grad()
    def fit_input_normalization(self, params: Mapping[str, Tensor], chunk: int = 1024) -> None:
        """Per-entry mean and deviation of the encoder input over stacked training INRs."""
        if self.config.encoder.input_normalization != "standardize":
            raise ValueError("fit_input_normalization: encoder.input_normalization is not 'standardize'")
        count = next(iter(params.values())).shape[0]
        if count < 2:
            raise ValueError(f"fit_input_normalization: needs 2+ INRs, got {count}")
        total = torch.zeros(self.matrix_shape, dtype=torch.float64)
        squares = torch.zeros(self.matrix_shape, dtype=torch.float64)
        for start in range(0, count, chunk):
            m = self.matrices({n: p[start:start + chunk].float() for n, p in params.items()}).double()
            total += m.sum(0)
            squares += (m * m).sum(0)
        mean = total / count
        std = ((squares - count * mean * mean).clamp_min(0) / (count - 1)).sqrt()
        self.input_mean.copy_(mean.to(self.input_mean))
        self.input_std.copy_(std.clamp_min(1e-8).to(self.input_std))

    def decode(self, embeddings: Tensor, queries: Tensor) -> Tensor:
        """Raw decoder output [K, N] (BCE logits or field values, per `config.loss`)."""
        return self.decoder(embeddings, queries)

    def decode_field(self, embeddings: Tensor, queries: Tensor) -> Tensor:
        """The decoded field value (sdf / udf / occupancy) at queries [K, N, 3] -> [K, N]."""
        return field_from_decoder_output(self.decode(embeddings, queries), self.config.teacher, self.config.loss)

    def forward(self, params: Mapping[str, Tensor], queries: Tensor) -> Tensor:
        return self.decode(self.encode(params), queries)


def reconstruction_loss(output: Tensor, targets: Tensor, loss: str) -> Tensor:
    """BCE between decoder logits and labels in [0, 1], or MSE between fields."""
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(output, targets)
    if loss == "mse":
        return F.mse_loss(output, targets)
    raise ValueError(f"loss must be 'bce' or 'mse', got {loss!r}")


def make_optimizer(modules: Sequence[nn.Module] | nn.Module, lr: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW over the parameters of one or more modules (inr2vec: lr 1e-4, weight decay 1e-2)."""
    if isinstance(modules, nn.Module):
        modules = [modules]
    params = [p for m in modules for p in m.parameters() if p.requires_grad]
    return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
