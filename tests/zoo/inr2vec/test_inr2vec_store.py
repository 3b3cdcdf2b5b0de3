"""inr2vec reads batches straight from a weight dataset written by inrzoo.store (local files)."""

from __future__ import annotations

import torch

from inrzoo.store.reader import open_weights
from inrzoo.store.records import RowResult
from inrzoo.store.writer import create_weights
from inr2vec_helpers import weight_data
from inrzoo.zoo.core import OptimizerConfig, StepContext
from inrzoo.zoo.core.loop import make_optimizer, train_epoch
from inrzoo.zoo.inr2vec import Inr2vec
from inrzoo.zoo.tasks.embedding import embed_params, embed_split
from inrzoo.zoo.tasks.retrieval import retrieval_task


def write_families(uri: str, arch, params, labels) -> None:
    listing = [{"id": f"s{i}", "uri": f"synthetic://{i}", "label": "ab"[int(y)], "split": "train", "meta": {}}
               for i, y in enumerate(labels)]
    writer = create_weights(uri, listing, [arch.spec], dtype="float32", chunk_rows=4, init_seed=0, overwrite=True)
    by_unit: dict[int, list] = {}
    for row in range(len(labels)):
        one = {n: p[row] for n, p in params.items()}
        by_unit.setdefault(row // 4, []).append(RowResult(row=row, params=one, arch=arch.spec))
    for unit in writer.regions():
        writer.write(unit, by_unit.get(unit.start // 4, []))
    writer.finalize(title="two synthetic SIREN families", description="inr2vec test data")


def test_train_and_embed_from_a_weight_dataset(siren_families, tiny_config, tmp_path):
    torch.manual_seed(0)
    arch, params, labels = siren_families(6)
    uri = str(tmp_path / "families.zarr")
    write_families(uri, arch, params, labels)
    dataset = open_weights(uri)
    spec = dataset.arch_spec()
    assert spec.to_json() == arch.spec.to_json()
    data = weight_data(uri)
    model = Inr2vec(tiny_config(), data.spec())
    optimizer = make_optimizer(model, OptimizerConfig(lr=1e-3, weight_decay=1e-2))
    stats = train_epoch(model, data.batches("train", 4), optimizer, StepContext(torch.device("cpu")))
    assert stats["items"] == 12 and stats["steps"] == 3
    split = embed_split(model, dataset, batch_size=4)
    torch.testing.assert_close(split.embeddings, embed_params(model, params))
    assert torch.equal(split.labels, labels)
    assert retrieval_task(split.embeddings, split.labels)["map@1"] > 0.5
