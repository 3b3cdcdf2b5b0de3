"""DrapeNet in the zoo core: the "garments" data source (made from data.make), model files,
the garment tasks on a briefly trained model, and the training job on a local Ray."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from inrzoo import config as configlib
from inrzoo.zoo.core.checkpoint import load_model, save_model
from inrzoo.zoo.core.data import DataSection, open_data
from inrzoo.zoo.core.job_config import TaskSettings, TrainJobConfig
from inrzoo.zoo.core.loop import make_optimizer, train_epoch
from inrzoo.zoo.core.job_config import OptimizerConfig
from inrzoo.zoo.core.model import StepContext
from inrzoo.zoo.core.tasks import TaskContext, run_tasks
from inrzoo.zoo.drapenet import DrapeNetGarments
from inrzoo.zoo.drapenet.source import GarmentData
from inrzoo.zoo.drapenet.tasks import FittingSettings, _targets

PROXIES = Path(__file__).resolve().parents[2] / "data" / "sampling"

MAKE = {"category": "top", "queries_per_garment": 4000, "surface_points": 400,
        "garments": {"body": "stored", "counts": {"tshirt": 4, "longsleeve": 3, "tank": 1, "dress": 2},
                     "test_fraction": 0.25, "settings": {"spacing": 0.03, "body_samples": 30_000}}}
OPTIONS = {"points_encoder": 128, "points_decoder": 512}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> GarmentData:
    uri = str(tmp_path_factory.mktemp("drapenet") / "tops.zarr")
    return open_data("garments", configlib.from_dict(DataSection, {"uri": uri, "options": OPTIONS, "make": MAKE}))


@pytest.fixture(scope="module")
def trained(data) -> DrapeNetGarments:
    from inrzoo.zoo.drapenet import DecoderConfig, DrapeNetConfig, EncoderConfig

    torch.manual_seed(0)
    config = DrapeNetConfig(encoder=EncoderConfig(channels=[16, 16, 32, 32]), decoder=DecoderConfig(hidden_dim=64, blocks=2))
    model = DrapeNetGarments(config, data.spec())
    optimizer = make_optimizer(model, OptimizerConfig(name="adam", lr=1e-3))
    for epoch in range(25):
        train_epoch(model, data.batches("train", 4, epoch=epoch, shuffle=True, drop_last=True), optimizer,
                    StepContext(torch.device("cpu"), None, epoch))
    return model.eval()


def test_source_splits_batches_and_shards(data):
    sizes = data.split_sizes()
    assert sizes == {"train": 6, "val": 0, "test": 4}  # the collection's own splits: ceil(25 %) of each type
    assert data.spec().category == "top" and data.spec().label_names == ["dress", "longsleeve", "tank", "tshirt"]
    batch = next(iter(data.batches("train", 3, shuffle=True, seed=1)))
    assert batch.size == 3 and batch.surface.shape == (3, 128, 3) and batch.queries.shape == (3, 512, 3)
    assert batch.distances.shape == (3, 512) and batch.gradients.shape == (3, 512, 3)
    again = next(iter(data.batches("train", 3, shuffle=True, seed=1)))
    assert torch.equal(batch.rows, again.rows) and torch.equal(batch.queries, again.queries)
    shards = [[int(r) for b in data.batches("train", 1, rank=k, world=2) for r in b.rows] for k in range(2)]
    assert len(shards[0]) == len(shards[1]) == 3 and not set(shards[0]) & set(shards[1])
    assert len(data.digest()) == 64 and GarmentData.ready(data.section)


def test_model_file_round_trip_without_pickle(trained, tmp_path):
    uri = save_model(trained, str(tmp_path / "m.safetensors"), extra={"note": "x"})
    model, extra = load_model(uri)
    assert isinstance(model, DrapeNetGarments) and extra == {"note": "x"}
    cloud = torch.rand(2, 64, 3) * 0.3
    np.testing.assert_allclose(model.predict(cloud.numpy()), trained.predict(cloud.numpy()), atol=1e-6)
    assert trained.predict(cloud.numpy()).shape == (2, 32)
    with pytest.raises(ValueError, match="point clouds"):
        trained.predict(np.zeros((2, 3)))


def test_fitting_targets_are_real_proxies_in_the_garment_frame_cut_below_a_height(data, tmp_path):
    """The skirt and the tights proxies (MakeHuman frame, dm) as fitting targets; the tights cut at
    the skirt's waist (1.84 dm) are leggings: everything above the cut goes, nothing below it."""
    skirt, tights = str(PROXIES / "skirt.obj"), str(PROXIES / "tights.obj")
    ctx = TaskContext(None, data, None, tmp_path)
    whole = dict(_targets(ctx, FittingSettings(target=[skirt, tights], frame="makehuman")))
    cut = dict(_targets(ctx, FittingSettings(target=[skirt, tights], frame="makehuman", below=1.84)))
    assert sorted(cut) == ["skirt", "tights"]
    waist = whole["skirt"].vertices[:, 2].max()  # the garment frame is z up
    assert len(cut["skirt"].faces) == len(whole["skirt"].faces)  # the skirt lies below its own waist
    assert cut["tights"].vertices[:, 2].max() <= waist + 1e-3 < whole["tights"].vertices[:, 2].max()  # 1.84 dm vs 1.8385
    assert 0 < len(cut["tights"].faces) < len(whole["tights"].faces)
    feet = whole["tights"].vertices[:, 2].min()
    assert cut["tights"].vertices[:, 2].min() == pytest.approx(feet)  # the legs are kept down to the feet
    (_, held_out), = _targets(ctx, FittingSettings())  # the default: the first held-out garment
    middle = float(np.median(held_out.vertices[:, 2]))
    (_, cut_held_out), = _targets(ctx, FittingSettings(below=middle, frame="makehuman"))  # cut in its own frame, z up
    assert cut_held_out.vertices[:, 2].max() <= middle + 1e-9 and 0 < len(cut_held_out.faces) < len(held_out.faces)
    with pytest.raises(ValueError, match="tights.obj.*below"):
        _targets(ctx, FittingSettings(target=tights, frame="makehuman", below=-20.0))
    with pytest.raises(ValueError, match="file names must differ"):
        _targets(ctx, FittingSettings(target=[skirt, skirt], frame="makehuman"))


@pytest.mark.slow
def test_garment_tasks_give_metrics_and_pictures(trained, data, tmp_path):
    settings = configlib.from_dict(TaskSettings, {
        "garment_reconstruction": {"garments": 2, "resolution": 32, "points": 2000},
        "garment_interpolation": {"steps": 3, "resolution": 32},
        "garment_editing": {"steps": 2, "resolution": 32},
        "garment_fitting": {"target": [item["uri"] for item in data.rows_info("test")[:2]],
                            "points": 800, "resolution": 32, "fit": {"steps": 3, "resolution": 32, "remesh_every": 2,
                                                                     "surface_points": 400}}})
    first, second = (Path(item["uri"]).stem for item in data.rows_info("test")[:2])
    outcome = run_tasks(["garment_reconstruction", "garment_interpolation", "garment_editing", "garment_fitting"],
                        TaskContext(trained, data, settings, tmp_path))
    m = outcome.metrics
    assert m["garment_empty"] == 0.0 and 0 < m["garment_chamfer"] < 0.2 and 0 <= m["garment_fscore"] <= 1
    assert 0 < m["nearest_train_chamfer"] < 0.1 and m["interpolation_nonempty"] == 1.0
    assert m["editing_direction_nonzero"] >= 1 and np.isfinite(m["editing_change"])
    assert np.isfinite(m["fit_chamfer_fitted"]) and np.isfinite(m["fit_chamfer_mean"])
    for key in ("fit_chamfer_fitted", "fit_fscore_encoder"):  # each target on its own, and their mean
        assert m[key] == pytest.approx((m[f"{key}_{first}"] + m[f"{key}_{second}"]) / 2)
    assert sorted(p.name for p in outcome.files) == ["garment_editing_sleeve.png", "garment_fitting.png",
                                                      "garment_interpolation.png", "garment_reconstruction.png"]


@pytest.mark.slow
def test_training_job_through_ray_train(local_ray, data, tmp_path):
    from inrzoo.zoo.core.job import run_training_job

    cfg = configlib.from_dict(TrainJobConfig, {
        "model": {"name": "drapenet", "encoder": {"channels": [8, 8, 16, 16]}, "decoder": {"hidden_dim": 32, "blocks": 1}},
        "data": {"uri": data.section.uri, "options": OPTIONS}, "train": {"epochs": 2, "batch_size": 4},
        "checkpoint": {"storage_path": str(tmp_path / "ckpt")}, "tracking": {"enabled": False}})
    summary = run_training_job(cfg, tmp_path / "out")
    assert summary.epochs == 2 and list((tmp_path / "ckpt" / cfg.run_name()).glob("checkpoint_*/model.safetensors"))
