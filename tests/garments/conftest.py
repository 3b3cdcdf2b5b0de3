"""A garment builder on the stored anny average body (tests/data/bodies, CC0), on a coarse grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inrzoo.bodies import Body
from inrzoo.garments import GarmentBuilder, GarmentSettings

BODY = Path(__file__).resolve().parents[1] / "data" / "bodies" / "anny_average_body.npz"


@pytest.fixture(scope="session")
def body_path() -> Path:
    return BODY


@pytest.fixture(scope="session")
def body() -> Body:
    return Body.load(BODY)


@pytest.fixture(scope="session")
def builder(body) -> GarmentBuilder:
    return GarmentBuilder(body, GarmentSettings(spacing=0.02, body_samples=60_000))

