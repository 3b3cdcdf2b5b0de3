"""NetSpace (De Luigi's thesis ch. 4, app. B): a learned space of whole trained networks.

A network's parameters as a PRep (`inrzoo.inr.prep`) -> encoder -> embedding -> decoder ->
a PRep of a network that behaves like it (trained by distillation), plus the ClassId head
when the space holds several architectures. Registered in the zoo as model "netspace" on data
"netspace_zoo", with its own tasks (netspace_decoding, _interpolation, _sampling, _latent).
See README.md.
"""

from inrzoo.zoo.netspace.config import (
    ClassIdConfig, DecoderConfig, EncoderConfig, LatentOptimizationConfig, LossConfig, NetSpaceConfig, PrepConfig,
)
from inrzoo.zoo.netspace.decoder import ClassIdHead, Decoder
from inrzoo.zoo.netspace.encoder import Encoder

__all__ = [
    "ClassIdConfig", "ClassIdHead", "Decoder", "DecoderConfig", "Encoder", "EncoderConfig",
    "LatentOptimizationConfig", "LossConfig", "NetSpaceConfig", "PrepConfig",
]
