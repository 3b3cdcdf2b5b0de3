"""Garment types and the parameters that make each garment (they become editing attributes).

Every garment is a `GarmentParams`: its type, its category (top or bottom) and named numbers.
Lengths are in metres of the body frame (anny: metres), measured along the body:
- hem: height of the hem above (+) or below (-) the waist, tops and skirts/dresses.
- ease: how far the fabric stands off the body (tight 0.5 cm .. loose 6 cm).
- flare: extra ease per metre below the waist (A-line tops, flared skirts, bootcut legs).
- sleeve: sleeve length from the shoulder joint along the arm (0: sleeveless).
- sleeve_ease: how far sleeves stand off the arm.
- neck_depth / neck_width: how far the neckline dips at the front and how wide it opens.
- neck_shape: 0 round (scoop/crew), 1 V-neck.
- armhole: radius of the armholes of sleeveless tops.
- rise: height of the waistband above (+) or below (-) the waist, bottoms.
- leg: leg length of trousers and shorts from the crotch down.
The ranges are chosen (the thesis uses CLOTH3D's garments, which cannot be shipped); they are
drawn uniformly, so the data spans each range and the editing directions are learnable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CATEGORIES = {"tshirt": "top", "longsleeve": "top", "tank": "top", "dress": "top",
              "skirt": "bottom", "trousers": "bottom", "shorts": "bottom"}
TYPES = tuple(CATEGORIES)

# type -> parameter -> (low, high): drawn uniformly (chosen ranges).
RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "tshirt": dict(hem=(-0.30, -0.05), ease=(0.01, 0.05), flare=(0.0, 0.15), sleeve=(0.08, 0.24),
                   sleeve_ease=(0.01, 0.04), neck_depth=(0.02, 0.12), neck_width=(0.07, 0.11), neck_shape=(0, 1)),
    "longsleeve": dict(hem=(-0.30, -0.05), ease=(0.01, 0.05), flare=(0.0, 0.15), sleeve=(0.32, 0.43),
                       sleeve_ease=(0.01, 0.04), neck_depth=(0.02, 0.10), neck_width=(0.07, 0.10), neck_shape=(0, 1)),
    "tank": dict(hem=(-0.30, -0.05), ease=(0.005, 0.04), flare=(0.0, 0.15), armhole=(0.07, 0.10),
                 neck_depth=(0.05, 0.20), neck_width=(0.08, 0.12), neck_shape=(0, 1)),
    "dress": dict(hem=(-0.85, -0.40), ease=(0.01, 0.04), flare=(0.05, 0.45), sleeve=(0.0, 0.22),
                  sleeve_ease=(0.01, 0.03), neck_depth=(0.03, 0.16), neck_width=(0.07, 0.11), neck_shape=(0, 1)),
    "skirt": dict(hem=(-0.85, -0.30), rise=(-0.08, 0.02), ease=(0.01, 0.04), flare=(0.0, 0.50)),
    "trousers": dict(leg=(0.48, 0.64), rise=(-0.08, 0.02), ease=(0.01, 0.04), flare=(0.0, 0.10)),
    "shorts": dict(leg=(0.05, 0.32), rise=(-0.08, 0.02), ease=(0.01, 0.04), flare=(0.0, 0.15)),
}
DISCRETE = {"neck_shape"}  # drawn as 0 or 1


@dataclass(frozen=True)
class GarmentParams:
    """One garment's recipe: type and parameter values (see the module notes for units)."""

    type: str
    values: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type not in CATEGORIES:
            raise ValueError(f"unknown garment type {self.type!r}; known: {TYPES}")
        expected = set(RANGES[self.type])
        if set(self.values) != expected:
            raise ValueError(f"{self.type}: parameters {sorted(self.values)} differ from {sorted(expected)}")
        for name, value in self.values.items():
            if not np.isfinite(value):
                raise ValueError(f"{self.type}: parameter {name} is not finite ({value})")

    @property
    def category(self) -> str:
        return CATEGORIES[self.type]

    def __getitem__(self, name: str) -> float:
        return self.values[name]

    def get(self, name: str, default: float = 0.0) -> float:
        return self.values.get(name, default)


def sample_params(garment_type: str, rng: np.random.Generator) -> GarmentParams:
    """Parameters of one garment of `garment_type`, each uniform in its range."""
    if garment_type not in RANGES:
        raise ValueError(f"unknown garment type {garment_type!r}; known: {TYPES}")
    values = {}
    for name, (low, high) in RANGES[garment_type].items():
        values[name] = float(rng.integers(int(low), int(high) + 1)) if name in DISCRETE else float(rng.uniform(low, high))
    return GarmentParams(garment_type, values)
