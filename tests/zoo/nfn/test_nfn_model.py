"""The zoo model `nfn` on the core: built from a weight dataset's spec, standardization statistics
from the train split in a buffer, trained by the core's loop on labeled rows, invariant to the
INRs' hidden-neuron permutations, saved and loaded without unpickling."""

from __future__ import annotations

import pytest
import torch
from inr2vec_helpers import adamw, spec_of, weight_data, write_dataset
from weight_permutations import permute_hidden

from inrzoo.zoo.core import StepContext
from inrzoo.zoo.core.checkpoint import load_model, save_model
from inrzoo.zoo.core.loop import train_epoch
from inrzoo.zoo.core.registry import resolve
from inrzoo.zoo.nfn import NFNClassifier, NFNConfig
from inrzoo.zoo.nfn.network import LayerStandardizer, features_from_params

CONFIG = NFNConfig(input_channels=4, hidden_channels=[8, 8], head_dims=[32], dropout=0.0)


@pytest.fixture
def families(siren_families, tmp_path):
    arch, params, labels = siren_families(10)
    data = weight_data(write_dataset(str(tmp_path / "d.zarr"), arch, params, labels).uri, test_fraction=0.3)
    return arch, params, data


def _accuracy(model: NFNClassifier, data, split: str) -> float:
    right = total = 0
    with torch.no_grad():
        for batch in data.batches(split, 64):
            right += int((model.logits(batch.params).argmax(-1) == batch.labels).sum())
            total += batch.size
    return right / total


def test_nfn_is_a_registered_zoo_model_and_needs_labels(siren_families):
    arch, _, _ = siren_families(1)
    assert resolve("model", "nfn") is NFNClassifier
    with pytest.raises(ValueError, match="nfn classifies the dataset's labels"):
        NFNClassifier(CONFIG, spec_of(arch))


def test_prepare_keeps_the_train_split_statistics(families):
    arch, _, data = families
    model = NFNClassifier(CONFIG, data.spec())
    model.prepare(data)
    train = [b.params for b in data.batches("train", 256)]
    stacked = {n: torch.cat([p[n] for p in train]).float() for n in train[0]}
    expected = LayerStandardizer(features_from_params(stacked, arch.param_shapes())).stats
    torch.testing.assert_close(model.layer_stats, expected.float())
    assert not torch.equal(model.layer_stats, torch.tensor([0.0, 1.0, 0.0, 1.0]).repeat(len(expected), 1))


def test_the_core_loop_trains_it_to_separate_held_out_families(families):
    _, _, data = families
    torch.manual_seed(0)
    model = NFNClassifier(CONFIG, data.spec())
    model.prepare(data)
    optimizer = adamw(model, lr=3e-3)
    first = last = None
    for epoch in range(25):
        stats = train_epoch(model, data.batches("train", 4, epoch=epoch), optimizer,
                            StepContext(torch.device("cpu"), epoch=epoch))
        first = first if first is not None else stats["loss"]
        last = stats
    model.eval()
    assert last["loss"] < 0.5 * first
    assert last["train_accuracy"] == 1.0
    assert _accuracy(model, data, "test") == 1.0


def test_embedding_is_invariant_to_hidden_permutations_and_survives_a_model_file(families, tmp_path):
    arch, params, data = families
    torch.manual_seed(0)
    model = NFNClassifier(CONFIG, data.spec())
    model.prepare(data)
    model.eval()
    some = {n: p[:3].float() for n, p in params.items()}
    embedding = model.encode(some)
    assert embedding.shape == (3, model.embedding_dim)
    torch.testing.assert_close(model.encode(permute_hidden(some, arch.spec.hidden)), embedding, atol=1e-5, rtol=1e-5)
    loaded, _ = load_model(save_model(model, str(tmp_path / "nfn.safetensors")))
    torch.testing.assert_close(loaded.layer_stats, model.layer_stats)
    torch.testing.assert_close(loaded.logits(some), model.logits(some))
