"""mAP@k and recall@k on hand-built embeddings whose answers are worked out by hand."""

from __future__ import annotations

import pytest
import torch

from inrzoo.zoo.tasks.retrieval import map_at_k, ranked_relevance, recall_at_k, retrieval_task


def test_separated_classes_give_perfect_scores():
    emb = torch.tensor([[0.0], [1.0], [2.0], [10.0], [11.0], [12.0]])
    labels = torch.tensor([0, 0, 0, 1, 1, 1])
    assert map_at_k(emb, labels) == {1: 1.0, 5: 1.0, 10: 1.0}
    assert recall_at_k(emb, labels) == {1: 1.0, 5: 1.0, 10: 1.0}


def test_interleaved_classes_by_hand():
    # A at 0 and 2, B at 1 and 3. Rankings (self left out, ties by index):
    # q0(A): 1B 2A 3B -> rel 0 1 0, R=1 -> AP@1 0, AP@5 = (1/2)/1
    # q1(B): 0A 2A 3B -> rel 0 0 1 -> AP@5 = (1/3)/1
    # q2(A): 1B 3B 0A -> rel 0 0 1 -> AP@5 = 1/3 ;  q3(B): 2A 1B 0A -> rel 0 1 0 -> AP@5 = 1/2
    emb = torch.tensor([[0.0], [1.0], [2.0], [3.0]])
    labels = torch.tensor([0, 1, 0, 1])
    scores = map_at_k(emb, labels, ks=(1, 2, 5))
    assert scores[1] == 0.0
    assert scores[2] == pytest.approx((0.5 + 0 + 0 + 0.5) / 4)
    assert scores[5] == pytest.approx((0.5 + 1 / 3 + 1 / 3 + 0.5) / 4)
    assert recall_at_k(emb, labels, ks=(1, 2, 3)) == {1: 0.0, 2: 0.5, 3: 1.0}


def test_ap_divides_by_the_relevant_items_that_fit_in_k():
    # q at 0 (class 0); gallery ranks: A(0) B(1) A(0) A(0) -> rel 1 0 1 1, R=3
    q, ql = torch.tensor([[0.0]]), torch.tensor([0])
    g = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    gl = torch.tensor([0, 1, 0, 0])
    scores = map_at_k(q, ql, ks=(1, 2, 4), gallery=g, gallery_labels=gl)
    assert scores[1] == 1.0
    assert scores[2] == pytest.approx(1.0 / 2)  # only P@1 counts; min(k=2, R=3) = 2
    assert scores[4] == pytest.approx((1 + 2 / 3 + 3 / 4) / 3)


def test_retrieval_task_keys_and_bad_input():
    emb = torch.randn(10, 4, generator=torch.Generator().manual_seed(0))
    result = retrieval_task(emb, torch.arange(10) % 2)
    assert set(result) == {"map@1", "map@5", "map@10", "recall@1", "recall@5", "recall@10"}
    assert all(0.0 <= v <= 1.0 for v in result.values())
    with pytest.raises(ValueError, match="one label"):
        map_at_k(emb, torch.zeros(3))


def test_chunked_ranking_equals_one_pass():
    gen = torch.Generator().manual_seed(1)
    emb = torch.randn(50, 3, generator=gen)
    labels = torch.randint(0, 4, (50,), generator=gen)
    one = ranked_relevance(emb, labels, max_k=10, chunk=1024)
    many = ranked_relevance(emb, labels, max_k=10, chunk=7)
    assert torch.equal(one[0], many[0]) and torch.equal(one[1], many[1])
    same_class = (labels.view(-1, 1) == labels.view(1, -1)).sum(1)
    assert torch.equal(one[1], same_class - 1)  # each query is left out of its own gallery


def test_a_querys_own_augmented_copies_are_not_in_its_gallery():
    # Two shapes of class 0 (a, b) and one of class 1 (c), each with two copies; copies of a shape
    # sit on top of each other, so without grouping every query finds its own copy first.
    emb = torch.tensor([[0.0], [0.01], [1.0], [1.01], [5.0], [5.01]])
    labels = torch.tensor([0, 0, 0, 0, 1, 1])
    groups = ["a", "a", "b", "b", "c", "c"]
    ungrouped = map_at_k(emb, labels, ks=(1,))
    grouped = map_at_k(emb, labels, ks=(1,), groups=groups)
    assert ungrouped[1] == 1.0  # every query's nearest item is its own copy
    # With its copies left out, a class-0 query finds the other class-0 shape first (relevant),
    # and a class-1 query has no relevant item left (skipped).
    assert grouped[1] == 1.0
    rel, counts = ranked_relevance(emb, labels, max_k=3, groups=groups)
    assert counts.tolist() == [2, 2, 2, 2, 0, 0] and rel.shape == (6, 3)
    # Query a: its gallery is b, b, c, c; ranked b, b first.
    assert rel[0].tolist() == [True, True, False]
    with pytest.raises(ValueError, match="3 groups for 6 items"):
        ranked_relevance(emb, labels, groups=groups[:3])
