"""The in-process Ray of the `local_ray` fixture: a private local cluster with the caps the
fixture promises, whatever RAY_ADDRESS or ray_current_cluster files are around."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_local_ray_runs_a_ray_data_pipeline(local_ray):
    resources = local_ray.cluster_resources()
    assert resources["CPU"] == 2
    assert resources["object_store_memory"] <= 256 * 1024**2
    squares = local_ray.data.range(10).map(lambda row: {"square": row["id"] ** 2})
    assert sorted(row["square"] for row in squares.take_all()) == [i * i for i in range(10)]
