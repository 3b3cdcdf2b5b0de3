"""A garment builder on the stored anny average body (inrzoo/data/bodies, CC0), on a coarse grid."""

from __future__ import annotations

from pathlib import Path

import pytest

from inrzoo.bodies import STORED_AVERAGE_BODY, Body
from inrzoo.garments import GarmentBuilder, GarmentSettings


@pytest.fixture(scope="session")
def body_path() -> Path:
    return STORED_AVERAGE_BODY


@pytest.fixture(scope="session")
def body() -> Body:
    return Body.load(STORED_AVERAGE_BODY)


@pytest.fixture(scope="session")
def builder(body) -> GarmentBuilder:
    return GarmentBuilder(body, GarmentSettings(spacing=0.02, body_samples=60_000))

