"""Interpolation between embeddings and the t-SNE picture."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inrzoo.zoo.tasks.plots import interpolate_embeddings, tsne_coordinates, tsne_plot


def test_interpolation_runs_from_a_to_b_in_equal_steps():
    a, b = torch.tensor([0.0, 2.0]), torch.tensor([4.0, -2.0])
    path = interpolate_embeddings(a, b, 5)
    torch.testing.assert_close(path[0], a)
    torch.testing.assert_close(path[-1], b)
    torch.testing.assert_close(path[2], (a + b) / 2)
    torch.testing.assert_close(path[1:] - path[:-1], ((b - a) / 4).expand(4, -1))
    with pytest.raises(ValueError, match="2 steps"):
        interpolate_embeddings(a, b, 1)


def test_tsne_keeps_separated_classes_apart_and_writes_a_png(tmp_path):
    gen = torch.Generator().manual_seed(0)
    emb = torch.cat([torch.randn(20, 8, generator=gen), torch.randn(20, 8, generator=gen) + 8.0])
    labels = torch.tensor([0] * 20 + [1] * 20)
    coords = tsne_coordinates(emb, perplexity=10)
    assert coords.shape == (40, 2)
    centre0, centre1 = coords[:20].mean(0), coords[20:].mean(0)
    spread = max(np.linalg.norm(coords[:20] - centre0, axis=1).max(), np.linalg.norm(coords[20:] - centre1, axis=1).max())
    assert np.linalg.norm(centre0 - centre1) > spread
    out = tsne_plot(emb[::4], labels[::4], tmp_path / "tsne.png", class_names=["chair", "plane"], perplexity=3)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 2000
