"""Counter-based sample streams: a true permutation per epoch, keyed by (seed, shape id,
epoch) alone, equal under numpy's and torch's arithmetic, and batches gathered from it."""

import numpy as np
import pytest
import torch

from inrzoo.fit.streams import (
    SampleStreams, _numpy_permutations, _torch_permutations, permutations, round_keys,
)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 64, 1000, 4097])
def test_every_epoch_is_a_permutation_of_the_samples(n):
    perm = permutations(7, [0, 1, 2**62 + 3], [0, 5, 2**31], n).numpy()
    assert perm.shape == (3, n) and perm.dtype == np.int32
    for row in perm:
        assert np.array_equal(np.sort(row), np.arange(n))


def test_numpy_and_torch_arithmetic_give_the_same_permutations():
    keys = round_keys(-3, np.array([0, 9, 2**63 - 1], dtype=np.uint64), np.array([0, 1, 77]))
    for n in (5, 700, 70_000):
        expected = _numpy_permutations(keys, n)
        assert np.array_equal(_torch_permutations(keys, n, torch.device("cpu")).numpy(), expected)


def test_the_order_depends_on_seed_shape_and_epoch_only():
    base = permutations(0, [4], [2], 512)
    assert torch.equal(base, permutations(0, [4], [2], 512))
    # One call for many shapes gives each the order it gets alone.
    assert torch.equal(permutations(0, [9, 4, 1], [0, 2, 5], 512)[1], base[0])
    for other in (permutations(1, [4], [2], 512), permutations(0, [5], [2], 512), permutations(0, [4], [3], 512)):
        assert not torch.equal(other, base)


def test_orders_look_uniformly_shuffled():
    n, epochs = 16, 8000
    perm = permutations(0, np.zeros(epochs, dtype=np.int64), np.arange(epochs), n).numpy()
    # Where sample 0 lands, and which sample comes first: each of the n outcomes ~ epochs / n.
    for counts in (np.bincount(np.argmax(perm == 0, axis=1), minlength=n), np.bincount(perm[:, 0], minlength=n)):
        chi2 = float(((counts - epochs / n) ** 2 / (epochs / n)).sum())
        assert chi2 < 45.0, counts  # 15 degrees of freedom: p ~ 1e-4
    # Neighbours in an epoch are unrelated: mean |a - b| of consecutive samples ~ (n^2 - 1) / 3n.
    big = permutations(3, [0], [0], 100_000).numpy()[0].astype(np.int64)
    assert abs(np.abs(np.diff(big)).mean() / (100_000 / 3) - 1.0) < 0.02


def test_batches_are_consecutive_slices_of_the_epoch_order():
    rng = np.random.default_rng(0)
    points = [rng.normal(size=(n, 3)).astype(np.float32) for n in (40, 25)]
    values = [np.arange(n, dtype=np.float32) for n in (40, 25)]  # value = sample index
    streams = SampleStreams(points, values, [11, 12], seed=5, batch_size=8, device=torch.device("cpu"),
                            dtype=torch.float32)
    assert streams.steps_per_epoch.tolist() == [5, 3]
    x, y = streams.batch(torch.tensor([1, 0]), torch.tensor([2, 4]))
    order1 = permutations(5, [12], [0], 25)[0].numpy()
    order0 = permutations(5, [11], [0], 40)[0].numpy()
    assert y[0].numpy().tolist() == order1[16:24].tolist() and y[1].numpy().tolist() == order0[32:40].tolist()
    assert np.array_equal(x[0].numpy(), points[1][order1[16:24]])
    streams.start_epoch(np.array([1]), np.array([3]))
    _, y = streams.batch(torch.tensor([1]), torch.tensor([0]))
    assert y[0].numpy().tolist() == permutations(5, [12], [3], 25)[0, :8].tolist()
