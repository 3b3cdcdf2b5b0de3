"""Ray Data's repeated progress report is off by default and comes back on request."""

from __future__ import annotations

import logging

import pytest
from ray.data import DataContext

from inrzoo.pipeline import load_convert_config
from inrzoo.pipeline.run import quiet_ray_data


@pytest.fixture()
def restore_context():
    ctx = DataContext.get_current()
    before = ctx.enable_progress_bars
    yield ctx
    ctx.enable_progress_bars = before
    logging.getLogger("ray.data._internal.progress").setLevel(logging.NOTSET)


@pytest.mark.parametrize("overrides,env,shown", [([], "", False), (["runtime.ray_progress=true"], "", True),
                                                 ([], "1", True), ([], "0", False)])
def test_ray_data_progress_is_quiet_unless_asked_for(restore_context, monkeypatch, overrides, env, shown):
    monkeypatch.setenv("INRZOO_RAY_PROGRESS", env)
    quiet_ray_data(load_convert_config(None, overrides))
    assert restore_context.enable_progress_bars is shown
    progress_logger = logging.getLogger("ray.data._internal.progress")
    assert progress_logger.isEnabledFor(logging.WARNING) is shown  # "progress bars disabled" stays unsaid
