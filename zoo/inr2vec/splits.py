"""Train / val / test views of a weight dataset and each Ray Train worker's shard of them.

Named splits are used when the dataset has them. Otherwise the split is drawn by source shape:
an augmented copy (id `<id>#aug<i>`) goes wherever its original goes, so no test shape has a
copy in training; the draw is stratified by label and depends only on the seed.
"""

from __future__ import annotations

import numpy as np
import torch

from inrzoo.store import WeightDataset
from inrzoo.zoo.inr2vec.job_config import DatasetSection

AUGMENT_MARK = "#aug"


def with_rows(dataset: WeightDataset, rows: np.ndarray) -> WeightDataset:
    """A view of `dataset` holding exactly `rows` (dataset row numbers, in this order)."""
    view = dataset.filter()
    view.rows = np.asarray(rows, dtype=np.int64)
    return view


def source_ids(ids: np.ndarray) -> np.ndarray:
    return np.array([str(i).split(AUGMENT_MARK)[0] for i in ids])


def source_groups(view: WeightDataset) -> torch.Tensor:
    """[N] int64: one code per source shape of the view's rows (an original and its copies share it)."""
    _, codes = np.unique(source_ids(view.columns["id"][view.rows]), return_inverse=True)
    return torch.as_tensor(codes.reshape(-1), dtype=torch.long)


def split_views(dataset: WeightDataset, cfg: DatasetSection) -> dict[str, WeightDataset]:
    """{"train", "val", "test"} views (val may be empty) of the rows in `dataset`."""
    cols = dataset.columns
    rows = dataset.rows
    splits = np.array([str(s) for s in cols["split"][rows]])
    if np.any(splits == cfg.train_split):
        named = {"train": cfg.train_split, "val": cfg.val_split, "test": cfg.test_split}
        views = {key: with_rows(dataset, rows[splits == name]) for key, name in named.items()}
    else:
        views = _seeded_split(dataset, cfg)
    if len(views["train"]) < 2:
        raise ValueError(f"{dataset.uri}: the train split has {len(views['train'])} rows; inr2vec needs at least 2")
    return views


def _seeded_split(dataset: WeightDataset, cfg: DatasetSection) -> dict[str, WeightDataset]:
    cols = dataset.columns
    rows = dataset.rows
    sources = source_ids(cols["id"][rows])
    labels = cols["label"][rows]
    # One label per source shape (copies share it); groups in first-seen order, then shuffled.
    first = {}
    for source, label in zip(sources, labels):
        first.setdefault(source, int(label))
    rng = np.random.default_rng(cfg.split_seed)
    assignment: dict[str, str] = {}
    for label in sorted(set(first.values())):
        members = [s for s, lab in first.items() if lab == label]
        members = [members[i] for i in rng.permutation(len(members))]
        n_test = _count(len(members), cfg.test_fraction)
        n_val = _count(len(members) - n_test, cfg.val_fraction)
        for i, source in enumerate(members):
            assignment[source] = "test" if i < n_test else "val" if i < n_test + n_val else "train"
    side = np.array([assignment[s] for s in sources])
    return {key: with_rows(dataset, rows[side == key]) for key in ("train", "val", "test")}


def _count(n: int, fraction: float) -> int:
    """round(n * fraction), but at least one when the fraction asks for any and n > 1."""
    if fraction <= 0 or n < 2:
        return 0
    return min(n - 1, max(1, int(round(n * fraction))))


def shard(view: WeightDataset, rank: int, world: int) -> WeightDataset:
    """Worker `rank`'s contiguous run of rows (contiguous rows touch the fewest chunks).

    Every shard has the same length (the remainder is dropped) so that DDP workers take the
    same number of steps and no all-reduce waits for a worker that has run out of data.
    """
    per = len(view) // world
    if per < 2:
        raise ValueError(f"{view.uri}: {len(view)} rows cannot feed {world} workers 2+ INRs each")
    return with_rows(view, view.rows[rank * per:(rank + 1) * per])


def digest(dataset: WeightDataset) -> str:
    """The dataset's content digest (config, source hashes, ids and statuses), as conversions log it."""
    from inrzoo.pipeline.report import dataset_digest

    return dataset_digest(dataset)
