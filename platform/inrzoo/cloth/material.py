"""Fabric material of the StVK cloth model, with SNUG's constants as defaults.

SNUG (isantesteban/snug, losses/material.py and physics.py; after ArcSim) describes a fabric by
    thickness t = 4.7e-4 m, bulk density 426 kg/m^3 (area density t * 426 = 0.2 kg/m^2),
    Young's modulus E = 0.7e5 Pa, Poisson's ratio nu = 0.485, bending multiplier 50,
and derives the plane-stress coefficients
    A = E / (1 - nu^2),  Lame mu = A (1 - nu) / 2,  Lame lambda = A nu,
    bending stiffness k_b = multiplier * A t^3 / 12   (= 3.96e-5 J with these numbers).
Collision (chosen; SNUG and the thesis give the form, not these numbers): a margin of 4 mm and a
stiffness of 1e6 J/m^3 on the cubed penetration. With 1e5 (HOOD's final collision weight) the
draping networks bought strain with penetration: held-out B2G 0.0126 against 0.0044 with 1e6,
the same 40-epoch run otherwise (benchmarks/drapenet_drape.py).
Gravity: g = 9.81 m/s^2 along -z (anny's frame: z up).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Material:
    thickness: float = 4.7e-4  # m
    bulk_density: float = 426.0  # kg / m^3
    young_modulus: float = 0.7e5  # Pa
    poisson_ratio: float = 0.485
    bending_multiplier: float = 50.0
    stretch_multiplier: float = 1.0
    gravity: float = 9.81  # m / s^2, along -z
    collision_margin: float = 4e-3  # m
    collision_stiffness: float = 1e6  # J / m^3

    def __post_init__(self) -> None:
        if self.thickness <= 0 or self.bulk_density <= 0 or self.young_modulus <= 0:
            raise ValueError(f"Material: thickness, bulk_density and young_modulus must be > 0, got "
                             f"{self.thickness}, {self.bulk_density}, {self.young_modulus}")
        if not 0.0 <= self.poisson_ratio < 0.5:
            raise ValueError(f"Material: poisson_ratio must lie in [0, 0.5), got {self.poisson_ratio}")
        if self.collision_margin < 0 or self.collision_stiffness < 0:
            raise ValueError("Material: collision_margin and collision_stiffness must be >= 0")

    @property
    def area_density(self) -> float:
        """kg / m^2."""
        return self.thickness * self.bulk_density

    @property
    def stretch_coefficient(self) -> float:
        return self.stretch_multiplier * self.young_modulus / (1.0 - self.poisson_ratio**2)

    @property
    def lame_mu(self) -> float:
        return 0.5 * self.stretch_coefficient * (1.0 - self.poisson_ratio)

    @property
    def lame_lambda(self) -> float:
        return self.stretch_coefficient * self.poisson_ratio

    @property
    def bending_stiffness(self) -> float:
        """k_b in joules: multiplier * A * t^3 / 12 with A = E / (1 - nu^2)."""
        return self.bending_multiplier * self.young_modulus / (1.0 - self.poisson_ratio**2) * self.thickness**3 / 12.0
