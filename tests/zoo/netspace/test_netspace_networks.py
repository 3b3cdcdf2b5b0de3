"""NetSpace's encoder, decoder and ClassId head: sizes from the config, thesis shapes, bad sizes refused."""

import pytest
import torch

from inrzoo.zoo.netspace import ClassIdHead, Decoder, DecoderConfig, Encoder, EncoderConfig
from inrzoo.zoo.netspace.model import NetSpace
from netspace_helpers import classifier_spec, sdf_spec, tiny_space_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("shape", [(4, 64), (8, 200), (12, 1000)])
def test_encoder_gives_a_fixed_size_embedding_for_any_prep_size(shape):
    encoder = Encoder(EncoderConfig(embedding_size=64, channels=[8, 16, 32]))
    assert encoder(torch.randn(3, 1, *shape)).shape == (3, 64)


def test_decoder_lands_on_the_prep_size_of_its_config():
    model = NetSpace(tiny_space_config(height=8, width=128), sdf_spec())
    embeddings, decoded, logits = model(torch.randn(2, 1, 8, 128))
    assert embeddings.shape == (2, 64) and decoded.shape == (2, 1, 8, 128) and logits is None


def test_prep_height_defaults_to_the_smallest_that_holds_the_largest_network():
    model = NetSpace(tiny_space_config(width=1024), classifier_spec("lenet", "resnet8"))
    assert model.prep_shape == (20, 1024)  # resnet8: 19,642 parameters
    with pytest.raises(ValueError, match="needs height >= 20"):
        NetSpace(tiny_space_config(height=8, width=1024), classifier_spec("lenet", "resnet8"))


def test_thesis_decoder_shapes():
    decoder = Decoder(4096, (8, 10_000))
    assert decoder.c0 == 1 and decoder.span == 2048
    assert decoder.conv1.out_channels == 8 * 256 and decoder.conv2.out_channels == 10_000 // 8
    assert decoder.conv3.out_channels == 256 and decoder.conv4.out_channels == 32
    assert decoder.scale.shape == (8, 10_000)
    head = ClassIdHead(4096, 64, 4)
    assert head.conv.out_channels == 10 and head.fc.in_features == 10 * 32 * 32 and head.fc.out_features == 4


def test_final_scale_starts_small_so_first_networks_are_small():
    decoder = Decoder(64, (4, 64), DecoderConfig(seed_side=4, row_channels=8, stage_channels=[4, 4, 8]))
    scale, bias = decoder.scale.detach(), decoder.bias.detach()
    assert scale.abs().max() < 0.01 and 0 <= float(bias.min()) and float(bias.max()) <= 0.01


def test_bad_sizes_are_refused_with_the_rule():
    with pytest.raises(ValueError, match="multiple of 4"):
        Decoder(64, (6, 64), DecoderConfig(seed_side=4, row_channels=8, stage_channels=[4, 4, 8]))
    with pytest.raises(ValueError, match="seed_side"):
        Decoder(100, (4, 64), DecoderConfig(seed_side=4))
    with pytest.raises(ValueError, match="multiple of 2 X"):
        Decoder(64, (4, 24), DecoderConfig(seed_side=4, row_channels=8, stage_channels=[4, 1, 8]))


def test_class_id_head_is_present_only_for_several_architectures():
    model = NetSpace(tiny_space_config(width=1024), classifier_spec("lenet", "plain_cnn", "resnet8", "resnet14"))
    _, _, logits = model(torch.randn(3, 1, *model.prep_shape))
    assert logits.shape == (3, 4)
    assert NetSpace(tiny_space_config(width=1024), classifier_spec("lenet")).class_id is None


def test_predict_maps_flattened_preps_to_embeddings():
    model = NetSpace(tiny_space_config(width=1024), classifier_spec("lenet"))
    flat = torch.randn(3, 8 * 1024).numpy()
    assert model.predict(flat).shape == (3, 64)
