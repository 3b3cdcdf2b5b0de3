"""DrapeNet's encoder and decoder: sizes of the thesis, shapes, kNN, invariances, initial state."""

from __future__ import annotations

import pytest
import torch

from inrzoo.zoo.drapenet import CbnDecoder, DgcnnEncoder, DrapeNetConfig, DrapeNetGarments
from inrzoo.zoo.drapenet.source import GarmentSpec
from inrzoo.zoo.drapenet.networks import knn_indices


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_default_sizes_are_the_thesis_architecture():
    model = DrapeNetGarments(DrapeNetConfig(), GarmentSpec())
    # EdgeConvs 3->64->64->128->256 (Linear without bias + BN), 512 -> 32 (+ BN).
    assert count(model.encoder) == (6 * 64 + 128) + (128 * 64 + 128) + (128 * 128 + 256) + (256 * 256 + 512) + (512 * 32 + 64)
    # 63 -> 512, 5 blocks of 2 x (512 x 512 conv + 2 CBN of gamma/beta 32 -> 512), final CBN, 512 -> 1.
    cbn = 2 * (32 * 512 + 512)
    assert count(model.decoder) == (63 * 512 + 512) + 5 * (2 * (512 * 512 + 512) + 2 * cbn) + cbn + 513
    assert model.decoder.encoding.out_dim == 63 and model.encoder.k == 16


def test_knn_matches_brute_force_in_chunks():
    points = torch.rand(2, 300, 3)
    brute = torch.cdist(points, points).topk(5, largest=False).indices
    chunked = knn_indices(points, 5, chunk=64)
    assert torch.equal(chunked.sort(-1).values, brute.sort(-1).values)
    assert torch.equal(chunked[..., 0], torch.arange(300).expand(2, -1))  # each point is its own nearest
    with pytest.raises(ValueError, match="at least k"):
        knn_indices(points[:, :3], 5)


def test_shapes_range_and_point_order_invariance(tiny_config):
    model = DrapeNetGarments(tiny_config, GarmentSpec()).eval()
    cloud = torch.rand(3, 64, 3)
    codes = model.encode(cloud)
    assert codes.shape == (3, 32)
    shuffled = cloud[:, torch.randperm(64)]
    torch.testing.assert_close(model.encode(shuffled), codes)
    udf = model.udf(codes, torch.rand(3, 50, 3))
    assert udf.shape == (3, 50) and (udf >= 0).all() and (udf <= tiny_config.delta).all()
    with pytest.raises(ValueError, match="queries"):
        model.logits(codes, torch.rand(2, 50, 3))
    with pytest.raises(ValueError, match="point clouds"):
        model.encode(torch.rand(64, 3))


def test_decoder_starts_with_identity_blocks_and_code_independent_output(tiny_config):
    decoder = CbnDecoder(32, tiny_config.decoder).eval()
    queries = torch.rand(2, 40, 3)
    # gamma(z) = 1 and beta(z) = 0 at initialization: the code does not matter yet.
    a = decoder(torch.randn(2, 32), queries)
    b = decoder(torch.randn(2, 32), queries)
    torch.testing.assert_close(a, b)
    # The last Linear of a block has zero weights: a block adds only its bias to its input.
    x = torch.randn(2, tiny_config.decoder.hidden_dim, 40)
    block = decoder.blocks[0]
    torch.testing.assert_close(block(x, torch.randn(2, 32)), x + block.fc1.bias[None, :, None])


def test_encoder_trains_with_batch_statistics(tiny_config):
    encoder = DgcnnEncoder(32, tiny_config.encoder).train()
    codes = encoder(torch.rand(4, 32, 3))
    codes.sum().backward()
    assert all(p.grad is not None for p in encoder.parameters())
