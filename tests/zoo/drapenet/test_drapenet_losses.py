"""DrapeNet's loss: continuous-label BCE and the gradient loss on the queries between 0 and delta."""

from __future__ import annotations

import pytest
import torch

from inrzoo.zoo.drapenet import garment_loss, udf_labels
from inrzoo.zoo.core.model import StepContext
from inrzoo.zoo.drapenet import DrapeNetGarments
from inrzoo.zoo.drapenet.source import GarmentBatch, GarmentSpec

DELTA = 0.1


def plane_queries(count: int) -> torch.Tensor:
    """Queries around the plane z = 0, none closer than 0.001 (where plane_logits clamps)."""
    generator = torch.Generator().manual_seed(0)
    queries = torch.rand(1, count, 3, generator=generator) * 0.16 - 0.08
    queries[..., 2] = torch.where(queries[..., 2].abs() < 1e-3, torch.full_like(queries[..., 2], 0.05), queries[..., 2])
    return queries.requires_grad_(True)


def plane_logits(queries: torch.Tensor) -> torch.Tensor:
    """Logits whose UDF sigmoid(l) * delta is exactly |z| (the plane z = 0) below delta."""
    ratio = (queries[..., 2].abs() / DELTA).clamp(1e-4, 1 - 1e-4)
    return torch.log(ratio / (1 - ratio))


def test_labels_are_clipped_distances_over_delta():
    torch.testing.assert_close(udf_labels(torch.tensor([0.0, 0.05, 0.1, 0.3]), DELTA), torch.tensor([0.0, 0.5, 1.0, 1.0]))


def test_an_exact_udf_has_no_gradient_loss_and_bce_on_continuous_labels():
    queries = plane_queries(500)
    distances = queries[..., 2].detach().abs()
    gradients = torch.zeros(1, 500, 3)
    gradients[..., 2] = torch.sign(queries[..., 2].detach())
    losses = garment_loss(plane_logits(queries), queries, distances, gradients, DELTA, 0.1)
    assert losses["grad"].item() < 1e-6
    # Continuous-label BCE, written out: -(y log p + (1 - y) log(1 - p)), p = sigmoid(logit).
    p = torch.sigmoid(plane_logits(queries)).detach()
    y = udf_labels(distances, DELTA)
    expected = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    assert losses["bce"].item() == pytest.approx(expected.item(), rel=1e-4)
    assert losses["total"].item() == pytest.approx(losses["bce"].item() + 0.1 * losses["grad"].item())


def test_gradient_loss_ignores_surface_and_clipped_queries_and_needs_grad():
    queries = plane_queries(300)
    distances = queries[..., 2].detach().abs()
    distances[0, :100] = 0.0  # on the surface
    distances[0, 100:200] = 0.2  # beyond delta
    gradients = torch.zeros(1, 300, 3)
    gradients[..., 2] = torch.sign(queries[..., 2].detach())
    clean = garment_loss(plane_logits(queries), queries, distances, gradients, DELTA, 0.1)["grad"]
    gradients[0, :200] = torch.tensor([5.0, 5.0, 5.0])  # nonsense where the UDF has no gradient
    assert garment_loss(plane_logits(queries), queries, distances, gradients, DELTA, 0.1)["grad"] == clean
    gradients[0, 250] = torch.tensor([5.0, 5.0, 5.0])  # a query between 0 and delta counts
    assert garment_loss(plane_logits(queries), queries, distances, gradients, DELTA, 0.1)["grad"] > clean
    with pytest.raises(ValueError, match="requires_grad"):
        garment_loss(plane_logits(queries.detach()), queries.detach(), distances, gradients, DELTA, 0.1)


def flat_batch() -> GarmentBatch:
    """Two flat sheets z = 0 with exact UDF and gradients."""
    surface = torch.rand(2, 64, 3) * 0.8 - 0.4
    surface[..., 2] = 0.0
    queries = torch.rand(2, 256, 3) * 0.8 - 0.4
    gradients = torch.zeros_like(queries)
    gradients[..., 2] = torch.sign(queries[..., 2])
    return GarmentBatch(surface, queries, queries[..., 2].abs(), gradients, torch.arange(2))


def test_model_losses_train_and_also_evaluate_under_no_grad(tiny_config):
    torch.manual_seed(0)
    model = DrapeNetGarments(tiny_config, GarmentSpec())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batch, step = flat_batch(), StepContext(torch.device("cpu"))
    first = model.losses(batch, step)
    assert set(first) == {"loss", "bce", "grad"}
    for _ in range(30):
        losses = model.losses(batch, step)
        optimizer.zero_grad()
        losses["loss"].backward()
        optimizer.step()
    assert losses["loss"].item() < 0.8 * first["loss"].item()
    model.eval()
    with torch.no_grad():  # the core's evaluation: the gradient term still needs autograd inside
        evaluated = model.losses(batch, StepContext(torch.device("cpu"), training=False))
    assert evaluated["grad"].item() > 0 and not evaluated["loss"].requires_grad


def test_a_model_whose_delta_differs_from_the_data_is_refused(tiny_config):
    with pytest.raises(ValueError, match="clipped at delta"):
        DrapeNetGarments(tiny_config, GarmentSpec(delta=0.05))
