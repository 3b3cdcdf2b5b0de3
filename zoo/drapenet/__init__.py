"""DrapeNet (De Luigi's thesis, ch. 2 and app. A), part 1: the garment generative model.

Garments are unsigned distance fields decoded from a 32-value code: a DGCNN encoder over surface
points, a decoder with conditional batch norm, trained with BCE plus a gradient loss by the zoo
core (model "drapenet" on the "garments" data source); latent editing along attribute directions
and fitting codes to point clouds are its tasks. The garments come from `inrzoo.garments` on the
anny body (`inrzoo.bodies`); MeshUDF is `inrzoo.geometry.mesh_udf`. See README.md.
"""

from inrzoo.zoo.drapenet.config import DecoderConfig, DrapeNetConfig, EncoderConfig
from inrzoo.zoo.drapenet.losses import garment_loss, udf_labels
from inrzoo.zoo.drapenet.model import DrapeNetGarments
from inrzoo.zoo.drapenet.networks import CbnDecoder, DgcnnEncoder

__all__ = ["CbnDecoder", "DecoderConfig", "DgcnnEncoder", "DrapeNetConfig", "DrapeNetGarments", "EncoderConfig",
           "garment_loss", "udf_labels"]
