"""PointNet: order invariance, identity-initialized transforms, the orthogonality regularizer;
the shared training loop learns a separable problem and keeps the best validation epoch."""

from __future__ import annotations

import torch
from torch import nn

from inrzoo.zoo.components.pointnet import PointNet, PointNetConfig, orthogonality_loss
from inrzoo.zoo.tasks.training import TrainConfig, accuracy, count, take, train_classifier


def test_pointnet_is_invariant_to_point_order_and_starts_with_identity_transforms():
    torch.manual_seed(0)
    model = PointNet(num_classes=4).eval()
    points = torch.rand(3, 64, 3)
    logits = model(points)
    assert logits.shape == (3, 4)
    torch.testing.assert_close(model(points[:, torch.randperm(64)]), logits, rtol=1e-5, atol=1e-5)
    eye = torch.eye(64).expand(3, 64, 64)
    torch.testing.assert_close(model.last_feature_transform, eye)
    assert float(model.regularization().detach()) == 0.0
    assert float(orthogonality_loss(2 * eye)) == 64 * 9.0  # ||I - 4I||_F^2: 9 per diagonal entry


def test_pointnet_without_feature_transform_has_no_regularizer():
    model = PointNet(num_classes=2, config=PointNetConfig(feature_transform=False)).eval()
    assert model(torch.rand(2, 16, 3)).shape == (2, 2) and float(model.regularization().detach()) == 0.0


def _blobs(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    x = torch.randn(n, 8, generator=gen) * 0.3 + torch.nn.functional.one_hot(y, 8).float() * 2
    return x, y


def test_training_learns_and_restores_the_best_validation_epoch():
    x, y = _blobs(96, 0)
    vx, vy = _blobs(30, 1)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    history = train_classifier(model, x, y, vx, vy, TrainConfig(epochs=6, batch_size=16, lr=1e-2))
    assert len(history["val_accuracy"]) == 6
    assert accuracy(model, vx, vy) == max(history["val_accuracy"]) > 0.9


def test_take_indexes_nested_inputs():
    data = ([torch.arange(4), torch.arange(8).view(4, 2)], [torch.arange(4)])
    picked = take(data, torch.tensor([2, 0]))
    assert picked[0][1].tolist() == [[4, 5], [0, 1]] and picked[1][0].tolist() == [2, 0]
    params = take({"w": torch.arange(6).view(3, 2), "b": torch.arange(3)}, torch.tensor([1]))
    assert params["w"].tolist() == [[2, 3]] and params["b"].tolist() == [1] and count(params) == 1
