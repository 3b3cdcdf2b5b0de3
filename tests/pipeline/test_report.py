"""What a finished conversion shows: surface-error figures legible in MLflow, a labelled histogram,
and a comparison picture whose failure never fails the conversion."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from inrzoo.pipeline.convert import comparison
from inrzoo.pipeline import load_convert_config
from inrzoo.pipeline.report import histogram_figure, quality, quality_x1000


def test_surface_error_figures_times_1000_next_to_the_fractions():
    q = quality(np.array([0.001, 0.002, 0.004, 0.02]))
    scaled = quality_x1000(q)
    assert set(scaled) == {"surface_error_median_x1000", "surface_error_p93_x1000", "surface_error_max_x1000"}
    for name, value in scaled.items():
        assert value == pytest.approx(1000 * q[name.removesuffix("_x1000")])
    assert quality_x1000({}) == {}


def test_histogram_names_both_thresholds_with_whole_shape_counts():
    fig = histogram_figure(np.array([0.001, 0.002, 0.004, 0.02, 0.0]))
    ax = fig.axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["0.003: 3 of 5 shapes below (paper 93%)", "0.01: 1 of 5 shapes above (paper none)"]
    assert ax.get_title().endswith("(5 shapes)") and ax.get_ylabel() == "shapes"


def test_a_picture_that_cannot_be_drawn_is_a_warning(tmp_path, caplog):
    cfg = load_convert_config(None, [f"source.uri={tmp_path}", f"output.uri={tmp_path / 'missing.zarr'}"])
    target = tmp_path / "cmp.png"
    with caplog.at_level(logging.WARNING, logger="inrzoo.pipeline.convert"):
        comparison(cfg, str(target))
    assert not target.exists()
    assert any("no picture of originals and reconstructions" in r.getMessage() for r in caplog.records)
