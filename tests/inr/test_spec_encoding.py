"""ArchSpec JSON round trip and versioning; input encodings."""

import math

import pytest
import torch

from inrzoo.config import ConfigError
from inrzoo.inr import SPEC_VERSION, ArchSpec, build
from inrzoo.inr.encoding import InputEncoding


def test_spec_json_roundtrip_and_version():
    spec = ArchSpec.default("siren", hidden=[64] * 3, encoding="fourier", fourier_sigma=5.0)
    back = ArchSpec.from_json(spec.to_json())
    assert back == spec and back.spec_version == SPEC_VERSION


def test_spec_rejects_unknown_keys_newer_versions_and_bad_json():
    with pytest.raises(ConfigError, match="unknown key"):
        ArchSpec.from_dict({"name": "relu_mlp", "widths": [3]})
    with pytest.raises(ConfigError, match="spec_version"):
        ArchSpec.from_dict({"name": "relu_mlp", "spec_version": SPEC_VERSION + 1})
    with pytest.raises(ValueError, match="not valid JSON"):
        ArchSpec.from_json("{nope", source="weights.zarr")
    with pytest.raises(KeyError, match="unknown architecture"):
        build(ArchSpec(name="transformer"))


def test_positional_encoding_is_nerf_gamma():
    enc = InputEncoding(ArchSpec(encoding="positional", frequencies=2))
    x = torch.tensor([[0.25, -0.5, 0.1]])
    out = enc(x)[0]
    expected = [*x[0]]
    for k in range(2):
        a = (2.0**k) * math.pi * x[0]
        expected += [*torch.sin(a), *torch.cos(a)]
    torch.testing.assert_close(out, torch.stack(expected))
    assert enc.out_dim == 3 * (2 * 2 + 1)


def test_fourier_features_are_fixed_by_the_seed():
    spec = ArchSpec(encoding="fourier", fourier_features=16, fourier_sigma=2.0, fourier_seed=5)
    x = torch.rand(4, 3)
    a, b = InputEncoding(spec)(x), InputEncoding(spec)(x)
    other = InputEncoding(spec.replace(fourier_seed=6))(x)
    assert a.shape == (4, 32) and torch.equal(a, b) and not torch.equal(a, other)
    bmat = InputEncoding(spec).fourier_matrix
    torch.testing.assert_close(a[:, :16], torch.cos(2 * math.pi * x @ bmat.T))
    assert build(spec).param_shapes()["layers.0.weight"] == (32, 32)
