"""The encoder input matrix and the encoder/decoder shapes, at tiny and at paper sizes."""

from __future__ import annotations

import pytest
import torch

from inrzoo.inr import ArchSpec, build, stack_params
from inrzoo.zoo.inr2vec import Inr2vec, Inr2vecConfig
from inrzoo.zoo.inr2vec.config import EncoderConfig
from inrzoo.zoo.components.implicit_decoder import ImplicitDecoder, PositionalEncoding
from inrzoo.zoo.inr2vec.encoder import Encoder, inr_matrix, linear_layers, matrix_blocks, matrix_rows
from inr2vec_helpers import spec_of


def test_hidden_matrix_stacks_out_in_weights_then_bias_rows():
    arch = build(ArchSpec.default("siren", hidden=[4] * 3))
    params = stack_params([arch.init_params(0), arch.init_params(1)])
    m = inr_matrix(params, arch.param_shapes())
    assert m.shape == (2, 2 * (4 + 1), 4)
    torch.testing.assert_close(m[1, 0:4], params["layers.1.weight"][1])  # row o = incoming weights of neuron o
    torch.testing.assert_close(m[1, 4], params["layers.1.bias"][1])
    torch.testing.assert_close(m[1, 5:9], params["layers.2.weight"][1])
    torch.testing.assert_close(m[1, 9], params["layers.2.bias"][1])


def test_in_out_storage_gives_the_same_matrix():
    arch = build(ArchSpec.default("relu_mlp", hidden=[5] * 3))
    params = stack_params([arch.init_params(3)])
    transposed_shapes = {n: (s[::-1] if len(s) == 2 else s) for n, s in arch.param_shapes().items()}
    transposed = {n: (p.transpose(1, 2) if p.dim() == 3 else p) for n, p in params.items()}
    assert linear_layers(transposed_shapes)[0].out_in is False
    torch.testing.assert_close(inr_matrix(transposed, transposed_shapes), inr_matrix(params, arch.param_shapes()))


def test_all_layers_variant_adds_first_layer_transposed_and_padded_last_layer():
    arch = build(ArchSpec.default("siren", hidden=[6] * 3))
    params = stack_params([arch.init_params(0)])
    m = inr_matrix(params, arch.param_shapes(), layers="all")
    assert m.shape[1] == matrix_rows(arch.param_shapes(), "all")[0] == 3 + 1 + 2 * 7 + 1 + 1
    torch.testing.assert_close(m[0, 0:3], params["layers.0.weight"][0].T)
    torch.testing.assert_close(m[0, 3], params["layers.0.bias"][0])
    torch.testing.assert_close(m[0, -2], params["output.weight"][0, 0])
    assert m[0, -1, 0] == params["output.bias"][0, 0] and torch.all(m[0, -1, 1:] == 0)


def test_unusable_architectures_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="equal hidden widths"):
        inr_matrix({}, build(ArchSpec.default("relu_mlp", hidden=[8, 16, 8])).param_shapes())
    with pytest.raises(ValueError, match="does not take"):
        linear_layers(build(ArchSpec.default("lightsal", hidden=[8, 8, 8], skip=[2])).param_shapes())
    with pytest.raises(ValueError, match="dense layers only"):
        linear_layers({"conv.weight": (4, 4, 3)})


def test_encoder_is_invariant_to_row_order():
    torch.manual_seed(0)
    enc = Encoder(8, EncoderConfig(hidden_dims=[16, 16], embedding_dim=12)).eval()
    x = torch.randn(3, 20, 8)
    perm = torch.randperm(20)
    torch.testing.assert_close(enc(x), enc(x[:, perm]))
    assert enc(x).shape == (3, 12)


def test_positional_encoding_is_63_values_in_nerf_order():
    pe = PositionalEncoding()
    x = torch.tensor([[[0.1, -0.2, 0.3]]])
    y = pe(x)
    assert pe.out_dim == 63 and y.shape == (1, 1, 63)
    torch.testing.assert_close(y[..., :3], x)
    torch.testing.assert_close(y[..., 3:6], torch.sin(x))
    torch.testing.assert_close(y[..., 6:9], torch.cos(x))
    torch.testing.assert_close(y[..., -3:], torch.cos(x * 2.0**9))


def test_decoder_skip_adds_a_projection_of_the_input():
    torch.manual_seed(0)
    dec = ImplicitDecoder(4)
    code, q = torch.randn(2, 4), torch.rand(2, 5, 3)
    joint = torch.cat([code.unsqueeze(1).expand(-1, 5, -1), dec.encoding(q)], -1)
    hidden = dec.before_skip(dec.input_layer(joint)) + dec.skip(joint)
    torch.testing.assert_close(dec(code, q), dec.output_layer(dec.after_skip(hidden)).squeeze(-1))
    assert len(dec.before_skip) + len(dec.after_skip) == 4  # 4 hidden layers of 512 around the skip


def test_paper_sizes_shapes():
    arch = build("siren")  # 4 x 512 SIREN
    with torch.device("meta"):
        model = Inr2vec(Inr2vecConfig(), spec_of(arch))
        params = {n: torch.empty(2, *s) for n, s in arch.param_shapes().items()}
        matrices = model.matrices(params)
        embeddings = model.encoder(matrices)
        out = model.decode(embeddings, torch.empty(2, 7, 3))
    assert matrices.shape == (2, 3 * 513, 512)
    assert embeddings.shape == (2, 1024) and out.shape == (2, 7)
    convs = [m for m in model.encoder.stages if isinstance(m, torch.nn.Conv1d)]
    assert [c.out_channels for c in convs] == [512, 512, 1024, 1024, 1024]
    assert model.decoder.input_layer[0].in_features == 1024 + 63
    assert model.decoder.input_layer[0].out_features == 512


def test_standardized_input_has_zero_mean_unit_deviation_per_entry_and_survives_a_round_trip(
        siren_families, tiny_config, tmp_path):
    from dataclasses import replace

    from inr2vec_helpers import weight_data, write_dataset
    from inrzoo.zoo.core.checkpoint import load_model, save_model

    arch, params, labels = siren_families(6)
    data = weight_data(write_dataset(str(tmp_path / "d.zarr"), arch, params, labels).uri)
    config = tiny_config()
    config.encoder = replace(config.encoder, input_normalization="standardize")
    model = Inr2vec(config, data.spec())
    with pytest.raises(ValueError, match="2\\+ INRs"):
        model.fit_input_normalization([{n: p[:1] for n, p in params.items()}])
    model.prepare(data)  # the core calls this before the first epoch: statistics of the train split
    train = torch.cat([model.matrices(batch.params) for batch in data.batches("train", 5)])
    standardized = (train - model.input_mean) / model.input_std
    torch.testing.assert_close(standardized.mean(0), torch.zeros(model.matrix_shape), atol=1e-5, rtol=0)
    varying = train.std(0) > 1e-6  # entries that differ between INRs
    torch.testing.assert_close(standardized.std(0)[varying], torch.ones(int(varying.sum())), atol=1e-4, rtol=0)
    loaded, _ = load_model(save_model(model.eval(), str(tmp_path / "std.safetensors")))
    torch.testing.assert_close(loaded.eval().encode(params), model.encode(params))
    plain = Inr2vec(tiny_config(), data.spec())
    plain.prepare(data)  # nothing to fit without standardization
    assert "input_mean" not in plain.state_dict()
    with pytest.raises(ValueError, match="is 'none'"):
        plain.fit_input_normalization([params])


def test_matrix_blocks_name_the_tensor_of_every_row():
    arch = build(ArchSpec.default("siren", hidden=[4] * 3))
    assert matrix_blocks(arch.param_shapes()).tolist() == [0] * 4 + [1] + [2] * 4 + [3]
    assert matrix_blocks(arch.param_shapes(), "all").tolist() == [0] * 3 + [1] + [2] * 4 + [3] + [4] * 4 + [5] + [6, 7]
    rows, _ = matrix_rows(arch.param_shapes(), "all")
    assert len(matrix_blocks(arch.param_shapes(), "all")) == rows


@pytest.mark.parametrize("layers", ["hidden", "all"])
def test_tensor_scale_and_centered_inputs_put_every_tensor_at_unit_scale_and_survive_a_round_trip(
        siren_families, tiny_config, tmp_path, layers):
    from dataclasses import replace

    from inr2vec_helpers import weight_data, write_dataset
    from inrzoo.zoo.core.checkpoint import load_model, save_model

    arch, params, labels = siren_families(6)
    data = weight_data(write_dataset(str(tmp_path / "d.zarr"), arch, params, labels).uri)
    train_params = [batch.params for batch in data.batches("train", 64)]
    blocks = matrix_blocks(arch.param_shapes(), layers)
    widths = []
    for mode in ("tensor_scale", "centered"):
        config = tiny_config()
        config.encoder = replace(config.encoder, input_normalization=mode, layers=layers)
        model = Inr2vec(config, data.spec())
        model.prepare(data)
        raw = torch.cat([model.matrices(p) for p in train_params]).double()
        x = torch.cat([model.normalized(model.matrices(p)) for p in train_params]).double()
        width = raw.shape[-1]
        mean, var = raw.mean(0), raw.var(0)  # the model keeps the unbiased deviation (as "standardize" uses)

        def block_rms(values):  # root mean of [rows, H] values over each row's tensor
            means = torch.stack([values[blocks == b].mean() for b in range(int(blocks.max()) + 1)])
            return means[blocks].sqrt().unsqueeze(1)

        if mode == "tensor_scale":  # each tensor's rows divided by its root mean square over the train INRs
            torch.testing.assert_close(x, raw / block_rms(var + mean.square()), rtol=1e-4, atol=1e-6)
            n = raw.shape[0]  # per tensor, a root mean square of 1 up to Bessel's factor on the deviation
            rms = block_rms(x.square().mean(0))
            assert ((n - 1) / n) ** 0.5 - 1e-6 <= float(rms.min()) and float(rms.max()) <= 1 + 1e-6
        else:  # [(w - mean) / delta scale, mean / mean scale]: the delta centered, the training mean beside it
            expected = torch.cat([(raw - mean) / block_rms(var), (mean / block_rms(mean.square())).expand_as(raw)], -1)
            torch.testing.assert_close(x, expected, rtol=1e-4, atol=1e-6)
            assert float(x[..., :width].mean(0).abs().max()) < 1e-5
        widths.append(x.shape[-1])
        assert model.encoder.input_dim == x.shape[-1]
        loaded, _ = load_model(save_model(model.eval(), str(tmp_path / f"{mode}_{layers}.safetensors")))
        torch.testing.assert_close(loaded.eval().encode(params), model.encode(params))
    assert widths == [raw.shape[-1], 2 * raw.shape[-1]]
