"""NetSpace's objectives through the zoo data source: a real (small) classifier zoo, SDF MLPs;
latent-space optimization."""

import copy

import pytest
import torch

from inrzoo.inr import ArchSpec, build, flatten_params, stack_params
from inrzoo.zoo.core.data import DataSection
from inrzoo.zoo.core.model import StepContext
from inrzoo.zoo.netspace import LatentOptimizationConfig
from inrzoo.zoo.netspace.data import NetBatch, NetZooData
from inrzoo.zoo.netspace.latent import optimize_embedding
from inrzoo.zoo.netspace.model import NetSpace, run_decoded
from netspace_helpers import sdf_spec, tiny_space_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")
STEP = StepContext(torch.device("cpu"), torch.Generator().manual_seed(0))


def _data(uri, **options):
    return NetZooData(DataSection(uri=uri, options=options))


def _steps(model, batch, n=25, lr=1e-3):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(n):
        terms = model.losses(batch, STEP)
        opt.zero_grad()
        terms["loss"].backward()
        opt.step()
        losses.append(float(terms["loss"]))
    return losses, terms


def test_data_source_reads_the_zoo_exactly_with_splits_images_and_teacher(digits_zoo):
    data = _data(digits_zoo, images_per_batch=32)
    spec = data.spec()
    assert spec.kind == "classifier" and len(spec.archs) == 3 and spec.images == "digits"
    assert data.split_sizes() == {"train": 9, "val": 3, "test": 3}
    model = NetSpace(tiny_space_config(width=1024), spec)
    images = data.image_splits().test
    view = data.views["test"]
    flat, ids = data.flat_rows(view)
    logits = run_decoded(model.preps(flat), ids, model.archs, images.images)
    for k, metrics in enumerate(data.metrics_of(view)):
        acc = float((logits[k].argmax(-1) == images.labels).float().mean())
        assert acc == pytest.approx(metrics["test_accuracy"])
    batch = next(iter(data.batches("train", 4, shuffle=True, drop_last=True)))
    assert batch.size == 4 and batch.images.shape == (32, 1, 8, 8) and batch.teacher_flat.shape == (1, flat.shape[1])
    again = next(iter(data.batches("train", 4, shuffle=True, drop_last=True)))
    assert torch.equal(again.arch_ids, batch.arch_ids) and torch.equal(again.images, batch.images)
    best = max(data.metrics_of(data.views["train"]), key=lambda m: m["val_accuracy"])
    assert best["val_accuracy"] == max(m["val_accuracy"] for m in data.metrics_of(data.views["train"]))
    single = _data(digits_zoo, groups=[2], repeats=3)
    assert len(single.spec().archs) == 1 and single.split_sizes()["train"] == 3
    assert sum(b.size for b in single.batches("train", 3, shuffle=True)) == 9  # three passes
    with pytest.raises(ValueError, match="not architecture groups"):
        _data(digits_zoo, groups=[7])


def test_single_architecture_distillation_decreases(digits_zoo):
    torch.manual_seed(0)
    data = _data(digits_zoo, groups=[0], images_per_batch=64)
    model = NetSpace(tiny_space_config(width=1024, teacher="input", interpolation=False), data.spec())
    batch = next(iter(data.batches("train", 3)))
    losses, terms = _steps(model, batch, n=50)
    assert set(terms) == {"loss", "kl"}
    assert losses[-1] < 0.9 * losses[0]


def test_multi_architecture_loss_has_class_kd_and_interpolation_terms(digits_zoo):
    torch.manual_seed(0)
    data = _data(digits_zoo, images_per_batch=32)
    model = NetSpace(tiny_space_config(width=1024, teacher="best"), data.spec())
    flat, ids = data.flat_rows(data.views["train"])
    picked = [int(torch.nonzero(ids == a).flatten()[0]) for a in (0, 1, 2, 2)]
    template = next(iter(data.batches("train", 4)))
    batch = NetBatch(flat[picked], ids[picked], template.rows, template.images, template.labels,
                     template.teacher_flat, template.teacher_arch)
    terms = model.losses(batch, STEP)
    assert float(terms["interpolation_points"]) == 2  # one lenet x two resnet8, gamma 1/2 each
    assert float(terms["class"]) > 0 and float(terms["kd"]) > 0 and torch.isfinite(terms["loss"])
    losses, _ = _steps(model, batch, n=30)
    assert losses[-1] < losses[0]
    per_network = NetSpace(tiny_space_config(width=1024, teacher="input"), data.spec())
    with pytest.raises(ValueError, match="one teacher"):
        per_network.losses(batch, STEP)


def test_sdf_distillation_decreases_for_independently_initialized_mlps():
    torch.manual_seed(0)
    spec = sdf_spec()
    arch = build(ArchSpec.from_dict(spec.archs[0]))
    flat = flatten_params(stack_params([arch.init_params(seed) for seed in range(4)]))
    model = NetSpace(tiny_space_config(width=128), spec)
    model.config.loss.sdf_queries.num_queries = 512
    batch = NetBatch(flat, torch.zeros(4, dtype=torch.long), torch.arange(4))
    losses, terms = _steps(model, batch, n=40)
    assert set(terms) == {"loss", "mse"}
    assert losses[-1] < 0.9 * losses[0]


def test_latent_optimization_moves_only_the_embedding(digits_zoo):
    torch.manual_seed(0)
    data = _data(digits_zoo)
    model = NetSpace(tiny_space_config(width=1024), data.spec())
    frozen = copy.deepcopy(model.state_dict())
    flat, _ = data.flat_rows(data.views["test"])
    start = model.encode(model.preps(flat[:1])).detach()[0]
    teacher_flat, teacher_arch = data.teacher()
    teacher = lambda x: run_decoded(model.preps(teacher_flat), teacher_arch, model.archs, x)[0]  # noqa: E731
    cfg = LatentOptimizationConfig(steps=20, lr=1e-2, batch_size=64, eval_every=5)
    result = optimize_embedding(model, start, teacher, data.image_splits(), target_arch=0, cfg=cfg)
    assert result.steps == 20 and result.embedding.shape == start.shape
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in frozen.items())
    assert 0.0 <= result.test_accuracy <= 1.0 and "val_accuracy" in result.initial
    with pytest.raises(ValueError, match="target_arch"):
        optimize_embedding(model, start, teacher, data.image_splits(), cfg=cfg)
