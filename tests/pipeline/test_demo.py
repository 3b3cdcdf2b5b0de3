"""`make demo` (inrzoo.demo) on the fast preset, at a tiny budget: it logs, it does not print."""

import logging
from pathlib import Path

from inrzoo import demo
from inrzoo.pipeline import load_convert_config, resolve

CONFIG = Path(__file__).resolve().parents[2] / "jobs" / "configs" / "demo.yaml"


def test_the_demo_config_is_the_fast_preset_unchanged():
    conv = resolve(load_convert_config(str(CONFIG)))
    assert conv.config.preset == "fast" and conv.config.fit == {}  # the preset's own budget and ladder
    assert conv.sampler_options == {"n": 250_000, "pool_size": 2_500_000}


def test_the_demo_logs_its_summary_and_prints_nothing(tmp_path, caplog, capsys):
    tiny = ["source.limit=1", "runtime.executor=local", "tracking.enabled=false", "fit.max_steps=16",
            "sampler.options.n=2000", "sampler.options.pool_size=20000", "eval.surface_points=1000",
            "eval.chamfer=none", "fit.escalation.ladder=[]"]
    with caplog.at_level(logging.INFO, logger="inrzoo"):
        code = demo.main(["--config", str(CONFIG), "--out", str(tmp_path / "demo"), "--show", "1",
                          "--resolution", "16", *tiny])
    assert code == 0
    assert capsys.readouterr().out == ""
    text = caplog.text
    assert "demo: converting" in text and "preset fast" in text and "demo summary" in text
    assert (tmp_path / "demo" / "reconstructions.png").exists()
