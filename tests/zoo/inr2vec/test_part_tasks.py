"""Part segmentation and the multi-task variant on a dataset converted from a ShapeNetPart tree:
labelled points of real meshes (parts by height), augmented copies included, so the labels
must reach each INR's frame through the row's recorded scaling and normalization."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import trimesh
from inr2vec_helpers import adamw, tiny_config, weight_data

from inrzoo.pipeline import load_convert_config, run_conversion
from inrzoo.store import open_weights
from inrzoo.zoo.core import StepContext
from inrzoo.zoo.core.job_config import TaskSettings
from inrzoo.zoo.core.loop import train_epoch
from inrzoo.zoo.core.tasks import TaskContext
from inrzoo.zoo.inr2vec import Inr2vec, MultiTaskConfig
from inrzoo.zoo.inr2vec.multitask_task import MultitaskTask
from inrzoo.zoo.tasks.segmentation import (SegmentationConfig, SegmentationSettings, SegmentationTask, has_part_labels,
                                           part_labels)

DATA = Path(__file__).resolve().parents[2] / "data" / "collections"
CLASSES = {  # synset -> (category, part ids, real meshes)
    "02691156": ("Airplane", [0, 1, 2], ["bunny.ply", "nut_M8.stl", "Old_example003.stl", "Basics_LetterBlock.stl"]),
    "03001627": ("Chair", [12, 13], ["Relay_DPDT_Omron_G5V-2.ply", "Relay_SPDT_Omron_G6E.ply",
                                      "LED_Rectangular_W3.0mm_H2.0mm.ply", "Old_example014.stl"]),
}


def shapenetpart_tree(root: Path) -> Path:
    """v0_normal layout: 1,000 surface points per real mesh, parts in bands of height."""
    train, test = [], []
    for synset, (category, parts, meshes) in CLASSES.items():
        (root / synset).mkdir(parents=True)
        for i, name in enumerate(meshes):
            mesh = trimesh.load(DATA / name, force="mesh")
            points, faces = trimesh.sample.sample_surface(mesh, 1000, seed=i)
            bands = np.quantile(points[:, 2], np.linspace(0, 1, len(parts) + 1)[1:-1])
            labels = np.asarray(parts)[np.digitize(points[:, 2], bands)]
            model = f"{synset[-3:]}{i:02d}"
            np.savetxt(root / synset / f"{model}.txt",
                       np.column_stack([points, mesh.face_normals[faces], labels]), fmt="%.6f")
            (test if i == 3 else train).append(f"shape_data/{synset}/{model}")
    (root / "synsetoffset2category.txt").write_text("".join(f"{c}\t{s}\n" for s, (c, _, _) in CLASSES.items()))
    split = root / "train_test_split"
    split.mkdir()
    for name, entries in (("train", train), ("test", test), ("val", [])):
        (split / f"shuffled_{name}_file_list.json").write_text(json.dumps(entries))
    return root


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """The tree converted to unsigned-distance INRs (one augmented copy each), and a briefly trained inr2vec."""
    tmp = tmp_path_factory.mktemp("parts")
    root = shapenetpart_tree(tmp / "shapenetcore_partanno_segmentation_benchmark_v0_normal")
    out = str(tmp / "parts.zarr")
    run_conversion(load_convert_config(None, [
        f"source.uri={root}", "source.collection=shapenetpart", f"output.uri={out}", "preset=udf",
        "output.chunk_rows=4", "augment.copies=1", "augment.scale=[0.6, 1.4]", "runtime.executor=local",
        "fit.arch.hidden=[16,16,16]", "fit.max_steps=20", "fit.batch_size=1024",
        "sampler.options={counts: [2000, 1500, 250], n_uniform: 250, n_base: 1000}", "eval.surface_points=500",
        "tracking.enabled=false",
    ]))
    dataset = open_weights(out)
    data = weight_data(out)
    torch.manual_seed(0)
    model = Inr2vec(tiny_config(), data.spec())
    optimizer = adamw(model)
    for epoch in range(2):
        train_epoch(model, data.batches("train", 4, epoch=epoch, shuffle=True), optimizer,
                    StepContext(torch.device("cpu"), torch.Generator().manual_seed(epoch)))
    return model.eval(), dataset, data


def context(model, data, tmp_path) -> TaskContext:
    return TaskContext(model, data, TaskSettings(), tmp_path)


def test_labelled_points_land_in_each_rows_frame(converted):
    _, dataset, data = converted
    views = data.views
    assert has_part_labels(views["train"]) and len(views["train"]) == 12 and len(views["test"]) == 4
    records = dataset.get_records(range(len(dataset)), with_params=False)
    copies = [r for r in records if "augment_scale" in r.meta]
    assert len(copies) == len(records) // 2
    labelled = part_labels(dataset, 1000)  # every point of each source file
    # Each INR was fitted in the [-1,1] cube frame of its (scaled) copy, centred on its box:
    # mapped with the row's scaling and normalization, the labelled points span exactly that box.
    low, high = labelled.points.amin(1), labelled.points.amax(1)
    torch.testing.assert_close((high - low).amax(1), torch.full((len(records),), 2.0), atol=1e-4, rtol=0)
    torch.testing.assert_close((high + low) / 2, torch.zeros(len(records), 3), atol=1e-4, rtol=0)
    for row, record in enumerate(records):
        assert set(labelled.labels[row].tolist()) <= set(record.meta["part_ids"])


@pytest.mark.slow
def test_segmentation_task_beats_the_majority_part(converted, tmp_path):
    model, _, data = converted
    settings = SegmentationSettings(SegmentationConfig(epochs=60, batch_size=4, lr=3e-3), points_per_shape=512)
    metrics = SegmentationTask().run(context(model, data, tmp_path), settings).metrics
    # Parts are height bands, so the point decoder can learn them; always predicting one part
    # would score about 1/3 (airplane) and 1/2 (chair) of class mIoU.
    assert metrics["segmentation_class_miou"] > 0.6, metrics
    assert 0 < metrics["segmentation_instance_miou"] <= 1


@pytest.mark.slow
def test_multitask_trains_segmentation_with_the_labels_and_holds_it_out(converted, tmp_path):
    model, _, data = converted
    small = MultiTaskConfig(segmentation=SegmentationConfig(epochs=5, batch_size=4), epochs=1, points_per_shape=256)
    small.classifier.layers_dim = [16, 16, 8]
    small.classifier.epochs = 5
    joint = MultitaskTask().run(context(model, data, tmp_path), small).metrics
    assert joint["multitask_segmentation"] > 0 and 0 <= joint["multitask_segmentation_class_miou"] <= 1
    small.holdout = "segmentation"
    held = MultitaskTask().run(context(model, data, tmp_path), small).metrics
    assert "multitask_segmentation" not in held and 0 <= held["multitask_segmentation_class_miou"] <= 1
