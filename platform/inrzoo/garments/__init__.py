"""Garments made by the project: open triangle meshes fitted around a body in its rest pose.

    from inrzoo.bodies import average_body
    from inrzoo.garments import GarmentBuilder, sample_params
    builder = GarmentBuilder(average_body())
    mesh = builder.build(sample_params("tshirt", np.random.default_rng(0)))   # garment frame

Types: tshirt, longsleeve, tank, dress (tops); skirt, trousers, shorts (bottoms).
"""

from inrzoo.garments.build import GarmentBuilder, GarmentSettings
from inrzoo.garments.params import CATEGORIES, RANGES, TYPES, GarmentParams, sample_params

__all__ = ["CATEGORIES", "GarmentBuilder", "GarmentParams", "GarmentSettings", "RANGES", "TYPES", "sample_params"]
