"""The pieces of the inr2vec training job: zoo config, splits and shards, training checkpoints,
the registered encoder (model from code, gated alias), the TorchTrainer on a local Ray, and the
downstream-task functions with the tasks job."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pytest
import torch
import yaml

from inrzoo import config as configlib
from inrzoo.registry import Gate, RegistryConfig, list_zoo
from inrzoo.store import RowResult, create_weights, open_weights
from inrzoo.zoo.inr2vec import Inr2vec, make_optimizer, save_inr2vec, train_epoch
from inrzoo.zoo.inr2vec.config import GanConfig, MultiTaskConfig, SegmentationConfig, TransferConfig
from inrzoo.zoo.inr2vec.job_config import DatasetSection, Inr2vecJobConfig, load_job_config
from inrzoo.zoo.inr2vec.registering import register_encoder
from inrzoo.zoo.inr2vec.splits import shard, split_views
from inrzoo.zoo.inr2vec.part_tasks import multitask_task, segmentation_task
from inrzoo.zoo.inr2vec.task_jobs import generation_task, transfer_task
from inrzoo.zoo.inr2vec.train_state import load_training_state, save_training_state

REPO = Path(__file__).resolve().parents[3]
KICAD_CONFIG = REPO / "zoo" / "configs" / "inr2vec" / "kicad_default.yaml"


def write_dataset(uri, arch, params, labels, *, copies=0, splits=None, storage_options=None):
    """Rows `<i>` and their copies `<i>#aug<c>` (same label), parameters from `params`."""
    listing, sources = [], []
    for i, y in enumerate(labels):
        for c in range(copies + 1):
            listing.append({"id": f"s{i}" + (f"#aug{c}" if c else ""), "uri": f"synthetic://{i}", "label": "ab"[int(y)],
                            "split": None if splits is None else splits[i], "meta": {}})
            sources.append(i)
    writer = create_weights(uri, listing, [arch.spec], chunk_rows=4, init_seed=0, overwrite=True,
                            storage_options=storage_options)
    for unit in writer.regions():
        writer.write(unit, [RowResult(row=r, params={n: p[sources[r]] for n, p in params.items()}, arch=arch.spec)
                            for r in unit])
    writer.finalize(title="synthetic SIREN families")
    return open_weights(uri, storage_options)


def job_config(uri: str, tiny_config, tmp_path, **sections) -> Inr2vecJobConfig:
    data = {"dataset": {"uri": uri, "test_fraction": 0.25}, "model": configlib.to_dict(tiny_config()),
            "checkpoint": {"storage_path": str(tmp_path / "ckpt")},
            "evaluation": {"classifier": {"layers_dim": [16, 16, 8], "epochs": 20, "batch_size": 8},
                           "reconstruction_shapes": 1, "mesh_resolution": 16, "chamfer_points": 256},
            "tracking": {"enabled": False}}
    data["model"].update(epochs=2, batch_size=4)
    for key, value in sections.items():
        data.setdefault(key, {}).update(value)
    return configlib.from_dict(Inr2vecJobConfig, data)


def test_zoo_config_loads_with_overrides_and_refuses_unknown_keys():
    cfg = load_job_config(str(KICAD_CONFIG), ["dataset.uri=s3://b/k.zarr", "model.epochs=3"])
    assert cfg.model.optimizer.lr == 1e-4 and cfg.model.optimizer.weight_decay == 1e-2
    assert cfg.registry.alias == "champion" and cfg.registry.gates[0] == Gate("accuracy", ">=", 0.5)
    assert cfg.run_name() == load_job_config(str(KICAD_CONFIG), ["dataset.uri=s3://b/k.zarr"]).run_name()
    assert cfg.run_name() != load_job_config(str(KICAD_CONFIG), ["dataset.uri=s3://b/other.zarr"]).run_name()
    with pytest.raises(configlib.ConfigError, match="scaling.worker"):
        load_job_config(str(KICAD_CONFIG), ["dataset.uri=x", "scaling.worker=2"])
    with pytest.raises(configlib.ConfigError, match="dataset.uri is required"):
        load_job_config(str(KICAD_CONFIG))


def test_seeded_split_keeps_copies_with_their_shape_and_is_stratified(siren_families, tmp_path):
    arch, params, labels = siren_families(6)
    ds = write_dataset(str(tmp_path / "d.zarr"), arch, params, labels, copies=2)
    cfg = job_config(ds.uri, lambda: Inr2vecJobConfig().model, tmp_path).dataset
    views = split_views(ds, cfg)
    ids = {k: [str(i).split("#")[0] for i in ds.columns["id"][v.rows]] for k, v in views.items()}
    assert not set(ids["train"]) & set(ids["test"])
    assert sum(len(v) for v in views.values()) == 36 and len(views["test"]) == 2 * 3 * 2  # 2 shapes per class x 3 rows
    test_labels = ds.columns["label"][views["test"].rows]
    assert np.bincount(test_labels).tolist() == [6, 6]
    again = split_views(ds, cfg)
    assert np.array_equal(again["test"].rows, views["test"].rows)
    other = split_views(ds, configlib.from_dict(type(cfg), {**configlib.to_dict(cfg), "split_seed": 5}))
    assert not np.array_equal(other["test"].rows, views["test"].rows)


def test_named_splits_and_equal_shards(siren_families, tmp_path):
    arch, params, labels = siren_families(5)
    splits = ["train"] * 7 + ["test"] * 3
    ds = write_dataset(str(tmp_path / "d.zarr"), arch, params, labels, splits=splits)
    views = split_views(ds, job_config(ds.uri, lambda: Inr2vecJobConfig().model, tmp_path).dataset)
    assert views["train"].rows.tolist() == list(range(7)) and views["test"].rows.tolist() == [7, 8, 9]
    assert len(views["val"]) == 0
    shards = [shard(views["train"], r, 2).rows.tolist() for r in range(2)]
    assert shards == [[0, 1, 2], [3, 4, 5]]  # equal lengths: DDP workers take the same steps
    with pytest.raises(ValueError, match="cannot feed 4 workers"):
        shard(views["train"], 0, 4)


def test_training_checkpoint_round_trip_restores_model_and_optimizer(siren_families, tiny_config, tmp_path):
    torch.manual_seed(0)
    arch, params, _ = siren_families(4)
    model = Inr2vec(arch.param_shapes(), tiny_config())
    optimizer = make_optimizer(model, 1e-3, 1e-2)
    train_epoch(model, [params], optimizer, arch.forward)
    save_training_state(tmp_path / "c", model, optimizer, epoch=7, extra={"arch": arch.spec.to_json()})
    fresh = Inr2vec(arch.param_shapes(), tiny_config())
    fresh_opt = make_optimizer(fresh, 1e-3, 1e-2)
    assert load_training_state(tmp_path / "c", fresh, fresh_opt) == 7
    for (name, a), b in zip(model.state_dict().items(), fresh.state_dict().values()):
        torch.testing.assert_close(a, b, msg=name)
    state, restored = optimizer.state_dict(), fresh_opt.state_dict()
    assert restored["param_groups"] == state["param_groups"]
    for index, entry in state["state"].items():
        for key, value in entry.items():
            torch.testing.assert_close(torch.as_tensor(restored["state"][index][key]), torch.as_tensor(value))
    # One more identical step on both gives identical weights: the moments really came back.
    train_epoch(model, [params], optimizer, arch.forward, generator=torch.Generator().manual_seed(1))
    train_epoch(fresh, [params], fresh_opt, arch.forward, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(model.encode(params), fresh.encode(params))
    other = Inr2vec(arch.param_shapes(), tiny_config(clamp=0.2))
    with pytest.raises(ValueError, match="another model config"):
        load_training_state(tmp_path / "c", other)
    with pytest.raises(FileNotFoundError, match="not an inr2vec training checkpoint"):
        load_training_state(tmp_path, other)


@pytest.mark.slow
def test_registered_encoder_loads_from_code_and_gets_its_alias_only_past_the_gates(siren_families, tiny_config,
                                                                                   tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment_id=mlflow.create_experiment("zoo", artifact_location=(tmp_path / "a").as_uri()))
    arch, params, _ = siren_families(2)
    model = Inr2vec(arch.param_shapes(), tiny_config()).eval()
    flat = torch.cat([p.reshape(4, -1) for p in params.values()], dim=1).numpy()
    cfg = RegistryConfig(model_name="inr2vec-test", gates=[Gate("accuracy", ">=", 0.9)])
    lineage = dict(arch_json=arch.spec.to_json(), dataset_uri="s3://b/d.zarr", dataset_digest="abc123",
                   format_version="1.0")
    with mlflow.start_run():
        failed = register_encoder(model, flat[:2], cfg, {"accuracy": 0.5}, **lineage)
        passed = register_encoder(model, flat[:2], cfg, {"accuracy": 0.95}, **lineage)
    assert not failed.promoted and "accuracy=0.5 >= 0.9: fail" in failed.gates and passed.promoted
    rows = {r["version"]: r for r in list_zoo(uri)}
    assert rows[passed.version]["aliases"] == ["champion"] and rows[failed.version]["aliases"] == []
    tags = rows[passed.version]["tags"]
    assert tags["inrzoo.dataset"] == "s3://b/d.zarr" and tags["inrzoo.dataset_digest"] == "abc123"
    assert tags["inrzoo.format_version"] == "1.0" and "inrzoo.git_commit" in tags
    loaded = mlflow.pyfunc.load_model("models:/inr2vec-test@champion")
    assert loaded.metadata.signature is not None
    np.testing.assert_allclose(loaded.predict(flat), model.encode(params).detach().numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(Exception, match="does not match expected shape"):  # the signature guards the width
        loaded.predict(flat[:, :-1])


@pytest.mark.slow
def test_torch_trainer_trains_checkpoints_and_resumes(local_ray, siren_families, tiny_config, tmp_path, capfd):
    from inrzoo.zoo.inr2vec.jobs import run_training_job

    arch, params, labels = siren_families(6)
    ds = write_dataset(str(tmp_path / "d.zarr"), arch, params, labels, copies=1)
    cfg = job_config(ds.uri, tiny_config, tmp_path, scaling={"workers": 2, "cpus_per_worker": 0.5})
    first = run_training_job(cfg, tmp_path / "plots")
    assert first.epochs == 2
    assert {"accuracy", "raw_weights_accuracy", "chance_accuracy", "map@1", "map@5", "map@10",
            "reconstruction_chamfer"} <= set(first.metrics)
    assert sorted(Path(p).name for p in first.artifacts) == ["interpolation.png", "tsne.png"]
    ckpt = tmp_path / "ckpt" / cfg.run_name()
    assert sorted(p.name for p in ckpt.glob("checkpoint_*/state.json")), "no checkpoint written"
    more = configlib.from_dict(Inr2vecJobConfig, {**configlib.to_dict(cfg), "model": {
        **configlib.to_dict(cfg.model), "epochs": 3}})
    assert more.run_name() == cfg.run_name()
    second = run_training_job(configlib.from_dict(Inr2vecJobConfig, {**configlib.to_dict(more), "evaluation": {
        **configlib.to_dict(more.evaluation), "plots": False, "reconstruction_shapes": 0}}))
    assert second.epochs == 3
    out = capfd.readouterr()
    logs = out.out + out.err
    assert "resumed from the checkpoint of epoch 2" in logs and "epoch 3/3" in logs and "epoch 1/3" not in logs



# --- downstream tasks and the tasks job ---------------------------------------------------------

@pytest.fixture()
def trained(siren_families, tiny_config, tmp_path):
    torch.manual_seed(0)
    arch, params, labels = siren_families(8)
    ds = write_dataset(str(tmp_path / "d.zarr"), arch, params, labels)
    model = Inr2vec(arch.param_shapes(), tiny_config())
    optimizer = make_optimizer(model, 1e-3, 1e-2)
    for _ in range(3):
        train_epoch(model, ds.loader(4, shuffle=True), optimizer, arch.forward)
    return model.eval(), ds, split_views(ds, DatasetSection(uri=ds.uri))


@pytest.mark.slow
def test_generation_decodes_gan_samples_to_meshes(trained, tmp_path):
    model, _, views = trained
    metrics = generation_task(model, views["train"], GanConfig(epochs=3, batch_size=4, generator_dims=[16],
                                                               discriminator_dims=[16, 16]), tmp_path / "gen",
                              samples=2, resolution=16)
    assert set(metrics) == {"gan_critic_loss", "gan_generator_loss", "generated_meshes", "generated_nearest_ratio"}
    assert metrics["generated_meshes"] == len(list((tmp_path / "gen").glob("generated_*.ply")))


@pytest.mark.slow
def test_transfer_onto_the_same_space_matches_shapes(trained):
    model, _, views = trained
    metrics = transfer_task(model, views, model, views, TransferConfig(num_layers=2, epochs=200, batch_size=8, lr=1e-2))
    assert metrics["transfer_mse"] < 1.0 and 0.0 <= metrics["transfer_top1"] <= 1.0


@pytest.mark.slow
def test_multitask_and_holdout_protocol_report_accuracy(trained):
    model, _, views = trained
    small = MultiTaskConfig()
    small.classifier.layers_dim, small.classifier.epochs, small.classifier.batch_size = [16, 16, 8], 5, 8
    joint = multitask_task(model, views, small, epochs=1)
    held = multitask_task(model, views, small, epochs=1, holdout="classification")
    assert 0 <= joint["multitask_test_accuracy"] <= 1 and 0 <= held["multitask_test_accuracy"] <= 1
    assert joint["multitask_classification"] > 0 and "multitask_classification" not in held


@pytest.mark.slow
def test_segmentation_refuses_datasets_without_part_labels(trained):
    model, ds, views = trained
    with pytest.raises(ValueError, match="part segmentation needs rows with part labels"):
        segmentation_task(model, views, SegmentationConfig(epochs=1))
    with pytest.raises(ValueError, match="holding out segmentation needs rows with part labels"):
        multitask_task(model, views, MultiTaskConfig(), epochs=1, holdout="segmentation")


@pytest.mark.slow
def test_tasks_job_classifies_from_a_saved_model(trained, tmp_path):
    model, ds, _ = trained
    weights = save_inr2vec(model, str(tmp_path / "m.safetensors"))
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"dataset": {"uri": ds.uri}, "tracking": {"enabled": False},
                                      "evaluation": {"classifier": {"epochs": 5, "batch_size": 8,
                                                                    "layers_dim": [16, 16, 8]}}}))
    done = subprocess.run([sys.executable, str(REPO / "jobs" / "inr2vec_tasks.py"), "classify", "--model", weights,
                           "--config", str(config)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    metrics = json.loads(done.stdout.split("[inr2vec] classify: ")[1].splitlines()[0])
    assert {"accuracy", "raw_weights_accuracy", "chance_accuracy"} <= set(metrics)
