"""Shape retrieval by L2 distance between embeddings: mAP@k and recall@k.

Every query is ranked against the gallery by Euclidean distance (ties broken by gallery
order); a retrieved item is relevant when it has the query's class. When queries and gallery
are the same set (the default), each query is left out of its own ranking, and with `groups`
(each item's source shape) so are the query's own augmented copies: finding a rescaled copy
of the query is not retrieval of another shape of its class.

AP@k of one query = (1 / min(k, R)) * sum_{i <= k} precision@i * rel_i, with R the number of
relevant gallery items; queries without any relevant item are skipped. mAP@k is the mean over
queries. recall@k (the hit rate the released inr2vec script prints) is the fraction of queries
with at least one relevant item in the top k.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import torch
from torch import Tensor

from inrzoo.zoo.core.model import Encoder
from inrzoo.zoo.core.tasks import Task, TaskContext, TaskOutcome
from inrzoo.zoo.tasks.embedding import embed_split, standardize


def ranked_relevance(queries: Tensor, query_labels: Tensor, gallery: Tensor | None = None,
                     gallery_labels: Tensor | None = None, max_k: int | None = None,
                     chunk: int = 1024, groups: Sequence[str] | None = None) -> tuple[Tensor, Tensor]:
    """(relevance [Q, k] of the k nearest gallery items in order, relevant count R [Q]).

    `groups` (self-retrieval only): items of the query's group are left out of its ranking."""
    self_retrieval = gallery is None
    if groups is not None and not self_retrieval:
        raise ValueError("retrieval: groups apply when queries and gallery are the same set")
    if self_retrieval:
        gallery, gallery_labels = queries, query_labels
    if gallery_labels is None:
        raise ValueError("retrieval: gallery_labels are required with a gallery")
    if queries.shape[0] != query_labels.shape[0] or gallery.shape[0] != gallery_labels.shape[0]:
        raise ValueError("retrieval: each embedding needs exactly one label")
    if queries.shape[1] != gallery.shape[1]:
        raise ValueError(f"retrieval: query size {queries.shape[1]} differs from gallery size {gallery.shape[1]}")
    group_ids = None
    if groups is not None:
        if len(groups) != queries.shape[0]:
            raise ValueError(f"retrieval: {len(groups)} groups for {queries.shape[0]} items")
        names = {g: i for i, g in enumerate(dict.fromkeys(groups))}
        group_ids = torch.tensor([names[g] for g in groups])
        largest = int(torch.bincount(group_ids).max())
    available = gallery.shape[0] - (largest if group_ids is not None else 1 if self_retrieval else 0)
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
        if group_ids is not None:
            same = group_ids[start:stop].view(-1, 1) == group_ids.view(1, -1)
            distances[same] = float("inf")
            relevant &= ~same
        elif self_retrieval:
            own = torch.arange(start, stop)
            distances[torch.arange(stop - start), own] = float("inf")
            relevant[torch.arange(stop - start), own] = False
        order = torch.sort(distances, dim=1, stable=True).indices[:, :k]
        ranked.append(torch.gather(relevant, 1, order))
        counts.append(relevant.sum(dim=1))
    return torch.cat(ranked), torch.cat(counts)


def map_at_k(embeddings: Tensor, labels: Tensor, ks: Sequence[int] = (1, 5, 10), gallery: Tensor | None = None,
             gallery_labels: Tensor | None = None, groups: Sequence[str] | None = None) -> dict[int, float]:
    """mAP@k for each k in `ks` (see the module docstring for the exact definition)."""
    rel, n_relevant = ranked_relevance(embeddings, labels, gallery, gallery_labels, max(ks), groups=groups)
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
                gallery_labels: Tensor | None = None, groups: Sequence[str] | None = None) -> dict[int, float]:
    """Fraction of queries with at least one same-class item among their k nearest."""
    rel, _ = ranked_relevance(embeddings, labels, gallery, gallery_labels, max(ks), groups=groups)
    return {k: float(rel[:, : min(k, rel.shape[1])].any(dim=1).double().mean()) for k in ks}


def retrieval_task(embeddings: Tensor, labels: Tensor, ks: Sequence[int] = (1, 5, 10),
                   groups: Sequence[str] | None = None) -> dict[str, float]:
    """{"map@1": ..., "recall@1": ...} for a labelled set of embeddings (each query, and with
    `groups` its own augmented copies, left out of its ranking)."""
    maps = map_at_k(embeddings, labels, ks, groups=groups)
    recalls = recall_at_k(embeddings, labels, ks, groups=groups)
    return {**{f"map@{k}": v for k, v in maps.items()}, **{f"recall@{k}": v for k, v in recalls.items()}}


@dataclass
class RetrievalSettings:
    ks: list[int] = field(default_factory=lambda: [1, 5, 10])
    exclude_own_copies: bool = True  # a query's augmented copies are not in its gallery
    raw_weight_baseline: bool = True  # the same ranking on the standardized raw weights
    batch_size: int = 64


class RetrievalTask(Task):
    name = "retrieval"
    config_class = RetrievalSettings
    requires = (Encoder,)

    def run(self, ctx: TaskContext, cfg: RetrievalSettings) -> TaskOutcome:
        views = ctx.data.views
        test = embed_split(ctx.model, views["test"], cfg.batch_size, with_flat=cfg.raw_weight_baseline)
        if len(test) < 2 or bool((test.labels < 0).any()):
            raise ValueError(f"{ctx.data.section.uri}: retrieval needs 2+ labelled test rows")
        groups = test.sources if cfg.exclude_own_copies else None
        metrics = retrieval_task(test.embeddings, test.labels, cfg.ks, groups)
        if cfg.raw_weight_baseline:
            train = embed_split(ctx.model, views["train"], cfg.batch_size, with_flat=True)
            _, scaled = standardize(train.flat, test.flat)
            metrics.update({f"raw_weights_{k}": v for k, v in retrieval_task(scaled, test.labels, cfg.ks, groups).items()})
        return TaskOutcome(metrics)
