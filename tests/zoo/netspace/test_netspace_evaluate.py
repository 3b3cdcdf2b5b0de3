"""Batches of a classifier space and the measurements of the evidence: decoded networks,
paths in embedding and weight space, sampling."""

import pytest
import torch

from inrzoo.classifiers import load_digits_splits
from inrzoo.zoo.netspace import NetSpace
from inrzoo.zoo.netspace.batches import classifier_batches, teacher_function
from inrzoo.zoo.netspace.data import best_network, load_zoo, one_architecture, zoo_prep_shape
from inrzoo.zoo.netspace.evaluate import decode_zoo, embedding_path, network_accuracy, sample_embeddings, weight_path
from inrzoo.zoo.netspace.model import run_decoded
from netspace_helpers import tiny_space_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_prep_shape_of_a_zoo_holds_its_largest_architecture(digits_zoo):
    assert zoo_prep_shape(digits_zoo, 1024) == (20, 1024)  # resnet8: 19,642 parameters
    assert zoo_prep_shape(digits_zoo, 1024, groups=[0]) == (8, 1024)  # lenet: 5,958


def test_batches_carry_input_or_fixed_teacher_logits(digits_zoo):
    zoo = load_zoo(digits_zoo, (20, 1024), "train")
    data = load_digits_splits()
    batch = next(classifier_batches(zoo, data.train, networks=3, image_batch=16, teacher="input"))
    assert batch.preps.shape == (3, 1, 20, 1024) and batch.teacher_logits.shape == (3, 16, 10)
    own = run_decoded(batch.preps, batch.arch_ids, zoo.archs, batch.images)
    assert all(torch.equal(own[k], batch.teacher_logits[k]) for k in range(3))
    fixed = next(classifier_batches(zoo, data.train, networks=3, image_batch=16, teacher="best"))
    best = best_network(zoo)
    assert fixed.teacher_logits.shape == (16, 10)
    assert zoo.metrics[best]["val_accuracy"] == max(m["val_accuracy"] for m in zoo.metrics)
    again = next(classifier_batches(zoo, data.train, networks=3, image_batch=16, teacher="input"))
    assert torch.equal(again.images, batch.images)  # deterministic for a seed
    with pytest.raises(ValueError, match="teacher"):
        teacher_function(zoo, "oracle")


def test_paths_and_decoded_networks(digits_zoo):
    torch.manual_seed(0)
    zoo = one_architecture(load_zoo(digits_zoo, (8, 1024), arch=0), 0)
    data = load_digits_splits()
    model = NetSpace(tiny_space_config(8, 1024)).eval()
    rows = decode_zoo(model, zoo, data.test)
    assert len(rows) == len(zoo)
    assert all(r.target_accuracy == pytest.approx(m["test_accuracy"]) for r, m in zip(rows, zoo.metrics))
    path = weight_path(zoo.preps[0], zoo.preps[1], 0, zoo.archs, data.test, steps=5)
    assert path[0].accuracy == pytest.approx(zoo.metrics[0]["test_accuracy"])
    assert path[-1].accuracy == pytest.approx(zoo.metrics[1]["test_accuracy"])
    with torch.no_grad():
        emb = model.encode(zoo.preps[:2])
        ends = model.decode(emb)[0]
    along = embedding_path(model, emb[0], emb[1], zoo.archs, data.test, steps=5)
    assert [p.gamma for p in along] == pytest.approx([0, 0.25, 0.5, 0.75, 1])
    assert along[0].accuracy == pytest.approx(network_accuracy(ends[0], 0, zoo.archs, data.test))
    sampled = sample_embeddings(emb.repeat(3, 1) + torch.randn(6, emb.shape[1]), 4)
    assert sampled.shape == (4, emb.shape[1])
