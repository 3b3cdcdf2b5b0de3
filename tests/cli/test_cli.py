"""Every `inrzoo` subcommand: flags override a config file only when given, one-line errors with
exit 2 (tracebacks with --debug), and each command doing its job on small data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml

from inr2vec_helpers import adamw, tiny_config, train_on, weight_data, write_dataset
from inrzoo.cli import main, parse_args
from inrzoo.cli.convert import convert_config
from inrzoo.zoo.core.checkpoint import save_model
from inrzoo.zoo.inr2vec import Inr2vec

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "platform" / "inrzoo" / "data" / "demo"


@pytest.fixture(autouse=True)
def embedded_state(tmp_path, monkeypatch):
    monkeypatch.setenv("INRZOO_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    torch.set_num_threads(1)


def parse(*argv):
    return parse_args(list(argv))


def test_flags_override_the_config_file_only_when_given():
    config = str(REPO / "jobs" / "configs" / "inr2vec.yaml")
    cfg = convert_config(parse("convert", "meshes/", "--out", "x.zarr", "--config", config))
    assert cfg.preset == "inr2vec" and cfg.source.collection == "folder"  # the file's, not a flag default
    cfg = convert_config(parse("convert", "meshes/", "--out", "x.zarr", "--config", config, "--preset", "davies",
                               "fit.max_epochs=3"))
    assert cfg.preset == "davies" and cfg.fit["max_epochs"] == 3
    cfg = convert_config(parse("convert", "--config", config, "source.uri=a/", "output.uri=b.zarr"))
    assert (cfg.source.uri, cfg.output.uri) == ("a/", "b.zarr")


@pytest.mark.parametrize("argv, message", [
    (["convert", "--out", "x.zarr"], "convert needs a SOURCE and --out"),
    (["convert", "a/", "--out", "x.zarr", "--config", "nowhere.yaml"], "nowhere.yaml: cannot read config file"),
    (["convert", "a/", "--out", "x.zarr", "fit.nosuchkey=1"], "fit.nosuchkey"),
    (["inspect", "/nonexistent/ds.zarr"], "/nonexistent/ds.zarr"),
    (["train", "--config", "nowhere.yaml"], "nowhere.yaml"),
    (["task", "classification", "--model", "/no/model.safetensors", "--config", str(REPO / "zoo/configs/linear/smoke.yaml")],
     "/no/model.safetensors"),
])
def test_errors_are_one_line_naming_the_input_with_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"inrzoo {argv[0]}: error:") and message in err[0], err


def test_debug_shows_the_traceback(capsys):
    assert main(["--debug", "train", "--config", "nowhere.yaml"]) == 2
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_helps_name_the_real_defaults(capsys):
    for argv in (["convert", "--help"], ["zoo", "list", "--help"], ["task", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
    out = capsys.readouterr().out
    assert "default: the config's, else davies" in out and "INRZOO_STATE_DIR" in out and "classification" in out


@pytest.mark.slow
def test_convert_then_inspect_the_bundled_meshes(tmp_path, capsys):
    out = tmp_path / "demo.zarr"
    assert main(["--quiet", "convert", str(DEMO), "--out", str(out), "source.options.index=index.csv", "source.limit=2",
                 "sampler.options={pool_size: 20000, n: 4000}", "fit.max_steps=3", "fit.escalation.ladder=[]",
                 "eval.surface_points=200", "eval.chamfer=none", "tracking.enabled=false",
                 "runtime.executor=local"]) == 0
    assert "surface error" in capsys.readouterr().out
    assert main(["inspect", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"] == 2


@pytest.mark.slow
def test_train_task_and_zoo_list(local_ray, siren_families, tmp_path, capsys):
    arch, params, labels = siren_families(6)
    ds = write_dataset(str(tmp_path / "d.zarr"), arch, params, labels)
    config = tmp_path / "linear.yaml"
    config.write_text(yaml.safe_dump({
        "model": {"name": "linear", "embedding_dim": 4}, "data": {"uri": ds.uri},
        "train": {"epochs": 2, "batch_size": 4}, "checkpoint": {"storage_path": str(tmp_path / "ckpt")},
        "evaluation": {"tasks": ["retrieval"]},
        "registry": {"model_name": "linear-cli", "gates": [{"metric": "map@1", "op": ">=", "threshold": 0.0}]}}))
    assert main(["zoo", "list"]) == 0 and "no registered models" in capsys.readouterr().out
    assert main(["train", "--config", str(config)]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["epochs"] == 2 and summary["registered"]["promoted"] and "map@1" in summary["metrics"]
    assert main(["zoo", "list"]) == 0 and "linear-cli  v1  aliases=champion" in capsys.readouterr().out

    model = Inr2vec(tiny_config(), weight_data(ds.uri).spec())
    train_on(model, params, adamw(model))
    weights = save_model(model, str(tmp_path / "m.safetensors"))
    assert main(["task", "retrieval", "--model", weights, "--config", str(config), "tracking.enabled=false"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["task"] == "retrieval" and "map@1" in result["metrics"]


def test_inspect_verify_exits_1_on_corrupt_chunks_and_inspect_2_on_bad_records(tmp_path, capsys):
    from inrzoo.store.tamper import chunk_files, sample_dataset, set_record

    path = sample_dataset(tmp_path / "ds.zarr")
    assert main(["inspect", str(path), "--verify"]) == 0
    assert "verify" in capsys.readouterr().out
    chunk = chunk_files(path / "arch/0/layers.1.weight")[0]
    chunk.write_bytes(chunk.read_bytes()[:-1] + b"\0")  # a parameter chunk plain inspect never reads
    assert main(["inspect", str(path)]) == 0
    capsys.readouterr()
    assert main(["inspect", str(path), "--verify"]) == 1
    out = capsys.readouterr().out
    assert "problem: " in out and "'arch/0/layers.1.weight' rows 0:4" in out
    set_record(path, "arch_row", 1, -1)  # an index out of range: seen by plain inspect
    assert main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0] and "records/arch_row" in err[0]
