"""Shape retrieval by L2 distance between inr2vec embeddings: mAP@k and recall@k.

Every query is ranked against the gallery by Euclidean distance (ties broken by gallery
order); a retrieved item is relevant when it has the query's class. When queries and gallery
are the same set (the default), each query is left out of its own ranking. With `groups` (one
code per item, e.g. the source shape of each INR), every gallery item of the query's own group
is left out too: a shape's augmented copies are neither retrieved nor counted as relevant.

AP@k of one query = (1 / min(k, R)) * sum_{i <= k} precision@i * rel_i, with R the number of
relevant gallery items; queries without any relevant item are skipped. mAP@k is the mean over
queries. recall@k (the hit rate the released inr2vec script prints) is the fraction of queries
with at least one relevant item in the top k.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor


def ranked_relevance(queries: Tensor, query_labels: Tensor, gallery: Tensor | None = None,
                     gallery_labels: Tensor | None = None, max_k: int | None = None,
                     chunk: int = 1024, groups: Tensor | None = None,
                     gallery_groups: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """(relevance [Q, k] of the k nearest gallery items in order, relevant count R [Q]);
    gallery items whose group equals the query's (`groups` [Q], `gallery_groups` [G]) are left out."""
    self_retrieval = gallery is None
    if self_retrieval:
        gallery, gallery_labels, gallery_groups = queries, query_labels, groups
    if (groups is None) != (gallery_groups is None):
        raise ValueError("retrieval: groups need gallery_groups (and the reverse)")
    if groups is not None and (len(groups) != len(queries) or len(gallery_groups) != len(gallery)):
        raise ValueError("retrieval: each item needs exactly one group")
    if gallery_labels is None:
        raise ValueError("retrieval: gallery_labels are required with a gallery")
    if queries.shape[0] != query_labels.shape[0] or gallery.shape[0] != gallery_labels.shape[0]:
        raise ValueError("retrieval: each embedding needs exactly one label")
    if queries.shape[1] != gallery.shape[1]:
        raise ValueError(f"retrieval: query size {queries.shape[1]} differs from gallery size {gallery.shape[1]}")
    available = gallery.shape[0] - (1 if self_retrieval else 0)
    k = min(max_k or available, available)
    if k < 1:
        raise ValueError("retrieval: the gallery has no items to rank")
    gallery = gallery.double()
    ranked, counts = [], []
    for start in range(0, len(queries), chunk):  # bounds memory to chunk x gallery distances
        stop = min(start + chunk, len(queries))
        # Exact differences (no matrix-product shortcut), so equal distances tie exactly.
        distances = torch.cdist(queries[start:stop].double(), gallery, compute_mode="donot_use_mm_for_euclid_dist")
        relevant = query_labels[start:stop].view(-1, 1) == gallery_labels.view(1, -1)
        if groups is not None:
            own_group = groups[start:stop].view(-1, 1) == gallery_groups.view(1, -1)
            distances[own_group] = float("inf")
            relevant &= ~own_group
        if self_retrieval:
            own = torch.arange(start, stop)
            distances[torch.arange(stop - start), own] = float("inf")
            relevant[torch.arange(stop - start), own] = False
        order = torch.sort(distances, dim=1, stable=True).indices[:, :k]
        ranked.append(torch.gather(relevant, 1, order))
        counts.append(relevant.sum(dim=1))
    return torch.cat(ranked), torch.cat(counts)


def map_at_k(embeddings: Tensor, labels: Tensor, ks: Sequence[int] = (1, 5, 10), gallery: Tensor | None = None,
             gallery_labels: Tensor | None = None, groups: Tensor | None = None,
             gallery_groups: Tensor | None = None) -> dict[int, float]:
    """mAP@k for each k in `ks` (see the module docstring for the exact definition)."""
    rel, n_relevant = ranked_relevance(embeddings, labels, gallery, gallery_labels, max(ks), groups=groups,
                                       gallery_groups=gallery_groups)
    rel = rel.double()
    hits = rel.cumsum(dim=1)
    precision = hits / torch.arange(1, rel.shape[1] + 1, dtype=torch.float64)
    keep = n_relevant > 0
    result = {}
    for k in ks:
        kk = min(k, rel.shape[1])
        denom = torch.clamp(n_relevant.double(), max=kk)
        ap = (precision[:, :kk] * rel[:, :kk]).sum(dim=1) / denom.clamp(min=1)
        result[k] = float(ap[keep].mean()) if keep.any() else 0.0
    return result


def recall_at_k(embeddings: Tensor, labels: Tensor, ks: Sequence[int] = (1, 5, 10), gallery: Tensor | None = None,
                gallery_labels: Tensor | None = None, groups: Tensor | None = None,
                gallery_groups: Tensor | None = None) -> dict[int, float]:
    """Fraction of queries with at least one same-class item among their k nearest."""
    rel, _ = ranked_relevance(embeddings, labels, gallery, gallery_labels, max(ks), groups=groups,
                              gallery_groups=gallery_groups)
    return {k: float(rel[:, : min(k, rel.shape[1])].any(dim=1).double().mean()) for k in ks}


def retrieval_task(embeddings: Tensor, labels: Tensor, ks: Sequence[int] = (1, 5, 10),
                   groups: Tensor | None = None) -> dict[str, float]:
    """{"map@1": ..., "recall@1": ...} for a labelled set of embeddings (each query left out, and
    with `groups` every item of the query's group, e.g. its augmented copies)."""
    maps = map_at_k(embeddings, labels, ks, groups=groups, gallery_groups=groups)
    recalls = recall_at_k(embeddings, labels, ks, groups=groups, gallery_groups=groups)
    return {**{f"map@{k}": v for k, v in maps.items()}, **{f"recall@{k}": v for k, v in recalls.items()}}
