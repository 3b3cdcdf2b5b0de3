"""NetSpace's objectives on a real (small) classifier zoo and on SDF MLPs; latent optimization."""

import copy

import pytest
import torch

from inrzoo.classifiers import load_digits_splits
from inrzoo.inr import ArchSpec, build, params_to_prep, stack_params
from inrzoo.zoo.netspace import LatentOptimizationConfig, LossConfig, NetSpace
from inrzoo.zoo.netspace.data import best_network, load_zoo, network_logits
from inrzoo.zoo.netspace.latent import optimize_embedding
from inrzoo.zoo.netspace.model import run_decoded
from inrzoo.zoo.netspace.objectives import classifier_loss, sdf_loss
from netspace_helpers import tiny_space_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SHAPE = (20, 1024)  # holds resnet8 (19,642 parameters)


def _steps(model, loss_fn, n=25, lr=1e-3):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(n):
        loss, _ = loss_fn()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    return losses


def test_zoo_preps_reproduce_the_stored_networks_exactly(digits_zoo):
    zoo = load_zoo(digits_zoo, SHAPE)
    data = load_digits_splits()
    assert sorted(set(zoo.arch_ids.tolist())) == [0, 1, 2]
    logits = run_decoded(zoo.preps, zoo.arch_ids, zoo.archs, data.test.images)
    for k in range(len(zoo)):
        acc = float((logits[k].argmax(-1) == data.test.labels).float().mean())
        assert acc == pytest.approx(zoo.metrics[k]["test_accuracy"])


def test_single_architecture_distillation_decreases(digits_zoo):
    torch.manual_seed(0)
    zoo = load_zoo(digits_zoo, SHAPE)
    lenets = zoo.subset(torch.nonzero(zoo.arch_ids == 0).flatten()[:3])
    data = load_digits_splits()
    images, labels = data.train.images[:64], data.train.labels[:64]
    with torch.no_grad():
        targets = torch.stack(run_decoded(lenets.preps, lenets.arch_ids, zoo.archs, images))
    model = NetSpace(tiny_space_config(*SHAPE))
    losses = _steps(model, (lambda: classifier_loss(model, lenets.preps, lenets.arch_ids * 0, [zoo.archs[0]], images,
                                                   labels, targets, LossConfig())), n=50)
    assert losses[-1] < 0.9 * losses[0]


def test_multi_architecture_loss_has_class_kd_and_interpolation_terms(digits_zoo):
    torch.manual_seed(0)
    zoo = load_zoo(digits_zoo, SHAPE)
    data = load_digits_splits()
    teacher = network_logits(zoo, best_network(zoo))
    images, labels = data.train.images[:32], data.train.labels[:32]
    batch = zoo.subset([int(torch.nonzero(zoo.arch_ids == a).flatten()[0]) for a in (0, 1, 2, 2)])
    model = NetSpace(tiny_space_config(*SHAPE, num_archs=3))
    with torch.no_grad():
        target = teacher(images)
    loss, metrics = classifier_loss(model, batch.preps, batch.arch_ids, zoo.archs, images, labels, target,
                                    LossConfig(teacher="best"))
    assert metrics["interpolation_points"] == 2  # one lenet x two resnet8, gamma 1/2 each
    assert torch.isfinite(loss) and metrics["class"] > 0 and metrics["kd"] > 0
    losses = _steps(model, lambda: classifier_loss(model, batch.preps, batch.arch_ids, zoo.archs, images, labels,
                                                   target, LossConfig(teacher="best")), n=30)
    assert losses[-1] < losses[0]
    per_network = torch.zeros(4, 32, 10)
    with pytest.raises(ValueError, match="one teacher"):
        classifier_loss(model, batch.preps, batch.arch_ids, zoo.archs, images, labels, per_network, LossConfig())


def test_sdf_distillation_decreases_for_independently_initialized_mlps():
    torch.manual_seed(0)
    arch = build(ArchSpec.default("relu_mlp", hidden=[16] * 3))
    params = stack_params([arch.init_params(seed) for seed in range(4)])
    preps = params_to_prep(params, (8, 128)).unsqueeze(1)
    queries = torch.rand(4, 256, 3) * 2 - 1
    model = NetSpace(tiny_space_config(8, 128))
    losses = _steps(model, lambda: sdf_loss(model, preps, arch, queries), n=40)
    assert losses[-1] < 0.9 * losses[0]


def test_latent_optimization_moves_only_the_embedding(digits_zoo):
    torch.manual_seed(0)
    zoo = load_zoo(digits_zoo, SHAPE)
    data = load_digits_splits()
    model = NetSpace(tiny_space_config(*SHAPE, num_archs=3))
    frozen = copy.deepcopy(model.state_dict())
    start = model.encode(zoo.preps[:1]).detach()[0]
    teacher = network_logits(zoo, best_network(zoo))
    cfg = LatentOptimizationConfig(steps=20, lr=1e-2, batch_size=64, eval_every=5)
    result = optimize_embedding(model, start, zoo.archs, teacher, data, target_arch=0, cfg=cfg)
    assert result.steps == 20 and result.embedding.shape == start.shape
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in frozen.items())
    assert 0.0 <= result.test_accuracy <= 1.0 and "val_accuracy" in result.initial
    with pytest.raises(ValueError, match="target_arch"):
        optimize_embedding(model, start, zoo.archs, teacher, data, cfg=cfg)
