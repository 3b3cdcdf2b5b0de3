"""Torch integration: batches of stacked INR parameters with labels, chunk-friendly.

An item of `WeightBatches` is a whole batch, read with one concurrent request per parameter
array, so a DataLoader (batch_size=None) moves batches, not single INRs. Batches are runs of
consecutive rows, which touch the fewest chunks; shuffling permutes the batch order each
epoch (and, with shuffle_rows, the rows themselves at the cost of scattered reads).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


class WeightBatches(Dataset):
    """Picklable: workers reopen the dataset from its URI instead of sharing store handles."""

    def __init__(self, dataset: Any, batch_size: int = 64, *, flat: bool = False, shuffle_rows: bool = False,
                 seed: int = 0, drop_last: bool = False):
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if len(dataset) == 0:
            raise ValueError(f"{dataset.uri}: no rows match the filters; nothing to load")
        group, group_rows = dataset.group_rows(range(len(dataset)))
        order = np.random.default_rng(seed).permutation(len(dataset)) if shuffle_rows else np.arange(len(dataset))
        self.uri = dataset.uri
        self.storage_options = dataset.location.storage_options
        self.torch_dtype = dataset.torch_dtype
        self.group = group
        self.rows = dataset.rows[order]
        self.group_rows = group_rows[order]
        self.labels = dataset.columns["label"][self.rows].astype(np.int64)
        self.flat = flat
        self.chunk_rows = int(dataset.attrs["layout"]["chunk_rows"])
        self.num_rows = dataset.num_rows
        self._block: tuple[int, int, dict] | None = None  # last chunk span read (start, stop, params)
        stop = len(self.rows) - (len(self.rows) % batch_size if drop_last else 0)
        self.batches = [slice(s, min(s + batch_size, stop)) for s in range(0, stop, batch_size)]
        self._dataset = dataset

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_dataset"] = None
        state["_block"] = None
        return state

    def _open(self):
        if self._dataset is None:
            from inrzoo.store.reader import open_weights

            self._dataset = open_weights(self.uri, self.storage_options, status=None, torch_dtype=self.torch_dtype)
        return self._dataset

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int) -> dict[str, Any]:
        part = self.batches[i]
        params = self._read(self.group_rows[part])
        batch = {
            "params": params,
            "label": torch.as_tensor(self.labels[part]),
            "row": torch.as_tensor(self.rows[part]),
        }
        if self.flat:
            batch["flat"] = torch.cat([v.reshape(v.shape[0], -1) for v in params.values()], dim=1)
        return batch


    def _read(self, group_rows: np.ndarray) -> dict[str, torch.Tensor]:
        """Rows of a batch, cut from the whole chunks that cover them (zarr reads whole chunks
        anyway). The last span read is kept, so consecutive batches smaller than a chunk do not
        fetch the same chunk again; scattered rows (shuffle_rows) read only their own chunks."""
        first, last = int(group_rows.min()), int(group_rows.max())
        start = first // self.chunk_rows * self.chunk_rows
        stop = min(-(-(last + 1) // self.chunk_rows) * self.chunk_rows, self.num_rows)
        cached = self._block is not None and self._block[0] <= first and last < self._block[1]
        if not cached and stop - start > 4 * max(len(group_rows), self.chunk_rows):
            order = np.argsort(group_rows, kind="stable")  # read in storage order, hand back in batch order
            params = self._open().read_params(group_rows[order], self.group)
            inverse = torch.as_tensor(np.argsort(order))
            return {name: value[inverse] for name, value in params.items()}
        if not cached:
            self._block = (start, stop, self._open().read_params(np.arange(start, stop), self.group))
        offsets = group_rows - self._block[0]
        if np.all(np.diff(offsets) == 1):
            # Consecutive rows: one memory copy (fancy indexing is far slower on a busy CPU);
            # a copy, so a consumer that edits its batch in place never edits the cache.
            cut = slice(int(offsets[0]), int(offsets[-1]) + 1)
            return {name: value[cut].clone() for name, value in self._block[2].items()}
        index = torch.as_tensor(offsets)
        return {name: value[index] for name, value in self._block[2].items()}


def weight_loader(dataset: Any, batch_size: int = 64, *, shuffle: bool = False, num_workers: int = 0,
                  flat: bool = False, shuffle_rows: bool = False, seed: int = 0, drop_last: bool = False,
                  **loader_options: Any) -> DataLoader:
    """DataLoader over `dataset` (a filtered WeightDataset of one architecture).

    Each batch: {"params": {name: [B, ...]}, "label": [B] (-1 = none), "row": [B]} and, with
    flat=True, "flat": [B, P] (parameters concatenated in canonical order).
    """
    batches = WeightBatches(dataset, batch_size, flat=flat, shuffle_rows=shuffle_rows, seed=seed, drop_last=drop_last)
    if num_workers > 0:
        loader_options.setdefault("multiprocessing_context", "spawn")  # fork would share event loops
        loader_options.setdefault("persistent_workers", True)
    return DataLoader(batches, batch_size=None, shuffle=shuffle, num_workers=num_workers, **loader_options)
