"""NFN layers: permuting the hidden neurons of an INR (a symmetry of its function) permutes the
equivariant features the same way and leaves the invariant classifier's output unchanged."""

from __future__ import annotations

import torch
from weight_permutations import permute_hidden

from inrzoo.inr import build
from inrzoo.inr.spec import ArchSpec
from inrzoo.zoo.nfn.network import (
    HNPPool,
    InvariantNFN,
    IOEncoding,
    LayerStandardizer,
    NFNConfig,
    NPLinear,
    features_from_params,
    layer_sizes,
)

SPEC = ArchSpec.default("siren", hidden=[8, 8, 8])


def _params(k: int, seed: int = 0) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    shapes = build(SPEC).param_shapes()
    return {name: torch.randn((k, *shape), generator=gen, dtype=torch.float64) * 0.3 for name, shape in shapes.items()}


def _permute_hidden(params: dict[str, torch.Tensor], seed: int = 1) -> dict[str, torch.Tensor]:
    return permute_hidden(params, SPEC.hidden, seed)


def _features(params):
    return features_from_params(params, build(SPEC).param_shapes())


def test_hidden_permutation_is_a_symmetry_of_the_inr():
    params = _params(2)
    x = torch.rand(2, 50, 3, dtype=torch.float64) * 2 - 1
    forward = build(SPEC).forward
    torch.testing.assert_close(forward(_permute_hidden(params), x), forward(params, x))


def test_np_linear_is_equivariant_to_hidden_permutations():
    torch.manual_seed(0)
    layer = NPLinear(len(SPEC.hidden) + 1, 1, 3).double()
    params = _params(2)
    out = layer(_features(params))
    permuted_out = layer(_features(_permute_hidden(params)))
    # Permuting the output features the same way as the input INR must give the same tensors.
    gen = torch.Generator().manual_seed(1)
    previous = None
    for i in range(len(SPEC.hidden) + 1):
        perm = torch.randperm(SPEC.hidden[i], generator=gen) if i < len(SPEC.hidden) else None
        w, b = out[0][i], out[1][i]
        if perm is not None:
            w, b = w[:, :, perm], b[:, :, perm]
        if previous is not None:
            w = w[..., previous]
        torch.testing.assert_close(permuted_out[0][i], w)
        torch.testing.assert_close(permuted_out[1][i], b)
        previous = perm


def test_invariant_nfn_ignores_hidden_permutations_but_not_the_weights():
    torch.manual_seed(0)
    sizes = layer_sizes(build(SPEC).param_shapes())
    assert sizes == [3, 8, 8, 8, 1]
    model = InvariantNFN(sizes, num_classes=5, config=NFNConfig(hidden_channels=[4, 4], head_dims=[16])).double().eval()
    params = _params(3)
    logits = model(_features(params))
    assert logits.shape == (3, 5)
    torch.testing.assert_close(model(_features(_permute_hidden(params))), logits)
    # Not trivially constant: other weights, or the input coordinates swapped, change the output.
    assert not torch.allclose(model(_features(_params(3, seed=5))), logits)
    swapped = dict(params, **{"layers.0.weight": params["layers.0.weight"][..., [1, 0, 2]]})
    assert not torch.allclose(model(_features(swapped)), logits)


def test_io_encoding_pool_and_standardizer_shapes():
    features = _features(_params(2))
    encoded = IOEncoding()(features)
    assert [w.shape[1] for w in encoded[0]] == [14] * 4
    assert torch.equal(encoded[0][1][:, 1:], torch.zeros_like(encoded[0][1][:, 1:]))  # hidden layers get no code
    pooled = HNPPool()(encoded)
    assert pooled.shape == (2, HNPPool.size([3, 8, 8, 8, 1], 14))
    standard = LayerStandardizer(features)(features)
    for w in standard[0]:
        torch.testing.assert_close(w.mean(), torch.tensor(0.0, dtype=w.dtype))
        torch.testing.assert_close(w.std(), torch.tensor(1.0, dtype=w.dtype))
