"""Human bodies for garment data and draping: the `Body` arrays and the open anny body model.

    from inrzoo.bodies import AnnyBodyModel, Body, average_body
    body = average_body()                 # anny, every phenotype 0.5, rest pose (load_body("stored"): its stored copy)
    frame = body.garment_frame()          # the normalized frame garments live in
    body.save("body.npz"); Body.load("body.npz")
"""

from inrzoo.bodies.anny_model import (
    STORED_AVERAGE_BODY, AnnyBodyModel, average_body, bone_part, load_body, makehuman_to_anny,
)
from inrzoo.bodies.body import JOINTS, PARTS, Body

__all__ = ["STORED_AVERAGE_BODY", "AnnyBodyModel", "Body", "JOINTS", "PARTS", "average_body", "bone_part", "load_body",
           "makehuman_to_anny"]
