"""NetSpace as a zoo model: encoder, decoder and (for several architectures) the ClassId head.

Built from its config and the zoo's spec (`data.NetZooSpec`: the architectures in ClassId
order). `losses` is the thesis's objective for the zoo's kind of networks (objectives.py);
`predict` (what a registered NetSpace serves) maps PReps, flattened row-major [B, H*W], to
embeddings [B, E].
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from inrzoo.inr import check_prep_shape, flat_to_prep, prep_shape, prep_to_params
from inrzoo.zoo.core.model import StepContext, ZooModel
from inrzoo.zoo.netspace.config import NetSpaceConfig
from inrzoo.zoo.netspace.data import NetBatch, NetZooSpec
from inrzoo.zoo.netspace.decoder import ClassIdHead, Decoder
from inrzoo.zoo.netspace.encoder import Encoder


class NetSpace(ZooModel):
    name = "netspace"
    config_class = NetSpaceConfig
    data_kind = "netspace_zoo"

    def __init__(self, config: NetSpaceConfig, spec: NetZooSpec) -> None:
        super().__init__(config, spec)
        self.archs = spec.architectures()
        largest = max(arch.num_params for arch in self.archs)
        if config.prep.height:
            self.prep_shape = check_prep_shape((config.prep.height, config.prep.width), largest, what="NetSpace PRep")
        else:
            self.prep_shape = prep_shape(largest, config.prep.width)
        size = config.encoder.embedding_size
        self.encoder = Encoder(config.encoder)
        self.decoder = Decoder(size, self.prep_shape, config.decoder)
        self.class_id = None
        if len(self.archs) > 1:
            self.class_id = ClassIdHead(size, config.decoder.seed_side, len(self.archs), config.class_id,
                                        config.decoder.negative_slope)

    @property
    def embedding_size(self) -> int:
        return self.config.encoder.embedding_size

    def preps(self, flat: Tensor) -> Tensor:
        """Flat parameter rows [B, P] -> PReps [B, 1, H, W]."""
        return flat_to_prep(flat, self.prep_shape).unsqueeze(1)

    def encode(self, preps: Tensor) -> Tensor:
        """PReps [B, 1, H, W] -> embeddings [B, E]."""
        return self.encoder(preps)

    def decode(self, embeddings: Tensor) -> tuple[Tensor, Tensor | None]:
        """Embeddings [B, E] -> (PReps [B, 1, H, W], architecture logits [B, A] or None)."""
        logits = None if self.class_id is None else self.class_id(embeddings)
        return self.decoder(embeddings), logits

    def forward(self, preps: Tensor) -> tuple[Tensor, Tensor, Tensor | None]:
        embeddings = self.encode(preps)
        decoded, logits = self.decode(embeddings)
        return embeddings, decoded, logits

    def losses(self, batch: NetBatch, step: StepContext) -> dict[str, Tensor]:
        from inrzoo.zoo.netspace.objectives import classifier_losses, sdf_losses

        if self.spec.kind == "classifier":
            return classifier_losses(self, batch, self.config.loss)
        return sdf_losses(self, batch, self.config.loss, step.generator)

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        flat = torch.as_tensor(np.asarray(inputs, dtype=np.float32))
        with torch.no_grad():
            return self.encode(self.preps(flat)).cpu().numpy()

    def example_input(self, batch: NetBatch) -> np.ndarray:
        return self.preps(batch.flat[:2]).flatten(1).cpu().numpy()


def decoded_arch_ids(arch_logits: Tensor | None, batch: int, device: torch.device) -> Tensor:
    """The architecture each decoded PRep is read as: the ClassId head's choice, or 0 for one architecture."""
    if arch_logits is None:
        return torch.zeros(batch, dtype=torch.long, device=device)
    return arch_logits.argmax(dim=1)


def run_decoded(preps: Tensor, arch_ids: Tensor, archs: list, inputs: Tensor) -> list[Tensor]:
    """Outputs of each network on inputs, PRep k read as architecture archs[arch_ids[k]].

    inputs: shared by all networks ([N, C, S, S] images, [N, 3] points) or one set per network
    ([B, N, ...]). Networks of one architecture run batched (`arch.forward` over a K axis);
    the result is a list in batch order.
    """
    outputs: list[Tensor | None] = [None] * preps.shape[0]
    shared = inputs.dim() == 4 or (inputs.dim() == 2)
    for a in torch.unique(arch_ids).tolist():
        members = torch.nonzero(arch_ids == a).flatten()
        arch = archs[a]
        params = prep_to_params(preps[members], arch.param_shapes())
        x = inputs if shared else inputs[members]
        if shared and x.dim() == 2:  # points of an INR: its forward takes [K, N, 3]
            x = x.unsqueeze(0).expand(len(members), *x.shape)
        values = arch.forward(params, x)
        for k, m in enumerate(members.tolist()):
            outputs[m] = values[k]
    return outputs  # type: ignore[return-value]
