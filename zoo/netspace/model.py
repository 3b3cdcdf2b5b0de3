"""NetSpace: encoder, decoder and (for several architectures) the ClassId head as one module."""

from __future__ import annotations

import torch
from torch import nn

from inrzoo.inr import prep_to_params
from inrzoo.zoo.netspace.config import NetSpaceConfig
from inrzoo.zoo.netspace.decoder import ClassIdHead, Decoder
from inrzoo.zoo.netspace.encoder import Encoder


class NetSpace(nn.Module):
    def __init__(self, config: NetSpaceConfig | None = None):
        super().__init__()
        self.config = config = config or NetSpaceConfig()
        size = config.encoder.embedding_size
        self.encoder = Encoder(config.encoder)
        self.decoder = Decoder(size, (config.prep.height, config.prep.width), config.decoder)
        self.class_id = None
        if config.num_archs > 1:
            self.class_id = ClassIdHead(size, config.decoder.seed_side, config.num_archs, config.class_id,
                                        config.decoder.negative_slope)

    @property
    def prep_shape(self) -> tuple[int, int]:
        return self.config.prep.height, self.config.prep.width

    @property
    def embedding_size(self) -> int:
        return self.config.encoder.embedding_size

    def encode(self, preps: torch.Tensor) -> torch.Tensor:
        """PReps [B, 1, H, W] -> embeddings [B, E]."""
        return self.encoder(preps)

    def decode(self, embeddings: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Embeddings [B, E] -> (PReps [B, 1, H, W], architecture logits [B, A] or None)."""
        logits = None if self.class_id is None else self.class_id(embeddings)
        return self.decoder(embeddings), logits

    def forward(self, preps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        embeddings = self.encode(preps)
        decoded, logits = self.decode(embeddings)
        return embeddings, decoded, logits


def decoded_arch_ids(arch_logits: torch.Tensor | None, batch: int, device: torch.device) -> torch.Tensor:
    """The architecture each decoded PRep is read as: the ClassId head's choice, or 0 for one architecture."""
    if arch_logits is None:
        return torch.zeros(batch, dtype=torch.long, device=device)
    return arch_logits.argmax(dim=1)


def run_decoded(preps: torch.Tensor, arch_ids: torch.Tensor, archs: list, inputs: torch.Tensor) -> list[torch.Tensor]:
    """Outputs of each decoded network on shared inputs, PRep k read as architecture archs[arch_ids[k]].

    Networks of one architecture run batched (`arch.forward` over a K axis); the result is a
    list in batch order (output shapes differ between architectures only in what they hold).
    """
    outputs: list[torch.Tensor | None] = [None] * preps.shape[0]
    for a in torch.unique(arch_ids).tolist():
        members = torch.nonzero(arch_ids == a).flatten()
        arch = archs[a]
        params = prep_to_params(preps[members], arch.param_shapes())
        batch_inputs = inputs if inputs.dim() == 4 else inputs[members]
        values = arch.forward(params, batch_inputs)
        for k, m in enumerate(members.tolist()):
            outputs[m] = values[k]
    return outputs  # type: ignore[return-value]
