"""Read throughput from an S3 store: INRs per second into torch batches, the weight dataset
(Zarr, chunked along the shape axis) against one HDF5 file per shape (Davies et al.'s Keras
layout) on the same store. Target: at least 10x.

    .venv/bin/python benchmarks/store_read.py [--shapes 512] [--batch 64] [--repeats 2]

Starts a private SeaweedFS S3 service through inrzoo.services (the code behind
infra/local/objectstore) on a free port, or uses a running one given by INRZOO_S3_ENDPOINT_URL,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and INRZOO_S3_BUCKET. Both sides hold the same
Davies-architecture parameters (float32) and are read by one process into batches of
stacked tensors; the best of `repeats` passes is reported.
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import fsspec
import h5py
import numpy as np
import torch

import inrzoo
from inrzoo.inr import ArchSpec, build
from inrzoo.store import RowResult

DAVIES = ArchSpec.default("relu_mlp")


@contextmanager
def s3_service():
    if os.environ.get("INRZOO_S3_ENDPOINT_URL"):
        yield os.environ["INRZOO_S3_BUCKET"], {"endpoint_url": os.environ["INRZOO_S3_ENDPOINT_URL"],
                                               "key": os.environ["AWS_ACCESS_KEY_ID"],
                                               "secret": os.environ["AWS_SECRET_ACCESS_KEY"]}
        return
    from inrzoo.services import ObjectStore, ServiceSettings

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as state:
        store = ObjectStore(ServiceSettings(state_dir=Path(state), s3_port=port, s3_bucket="bench"))
        store.start()
        try:
            creds = store.credentials()
            yield "bench", {"endpoint_url": store.endpoint_url, "key": creds["access_key"], "secret": creds["secret_key"]}
        finally:
            store.stop()


def shape_params(count: int) -> list[dict[str, np.ndarray]]:
    """Trained-like parameters: the shared initialization plus a per-shape perturbation."""
    base = build(DAVIES).init_params(0)
    rng = np.random.default_rng(0)
    return [{k: (v.numpy() + 0.05 * rng.standard_normal(v.shape)).astype(np.float32) for k, v in base.items()}
            for _ in range(count)]


def keras_h5(params: dict[str, np.ndarray]) -> bytes:
    """One shape in Davies' layout: Keras 2 HDF5 with model_weights/dense_i/dense_i/kernel:0, bias:0."""
    buffer = io.BytesIO()
    names = list(params)
    with h5py.File(buffer, "w") as f:
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = [f"dense_{i}".encode() for i in range(len(names) // 2)]
        for i in range(len(names) // 2):
            layer = group.create_group(f"dense_{i}")
            layer.attrs["weight_names"] = [f"dense_{i}/kernel:0".encode(), f"dense_{i}/bias:0".encode()]
            layer.create_dataset(f"dense_{i}/kernel:0", data=params[names[2 * i]].T)
            layer.create_dataset(f"dense_{i}/bias:0", data=params[names[2 * i + 1]])
    return buffer.getvalue()


class PerShapeHDF5(torch.utils.data.Dataset):
    """The baseline reader: one file per shape, opened through fsspec, all layers read."""

    def __init__(self, fs, paths: list[str], names: list[str]):
        self.fs, self.paths, self.names = fs, paths, names

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        out = {}
        with self.fs.open(self.paths[i], "rb") as handle, h5py.File(handle, "r") as f:
            weights = f["model_weights"]
            for k, layer in enumerate(weights.attrs["layer_names"]):
                layer = layer.decode() if isinstance(layer, bytes) else layer
                out[self.names[2 * k]] = torch.from_numpy(weights[layer][f"{layer}/kernel:0"][()].T.copy())
                out[self.names[2 * k + 1]] = torch.from_numpy(weights[layer][f"{layer}/bias:0"][()])
        return out


def timed_pass(loader) -> tuple[float, int]:
    started, count = time.perf_counter(), 0
    for batch in loader:
        params = batch["params"] if "params" in batch else batch
        count += next(iter(params.values())).shape[0]
    return time.perf_counter() - started, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", type=int, default=512)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--chunk-rows", type=int, default=None, help="default: the writer's (256 for this architecture)")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    params = shape_params(args.shapes)
    names = list(params[0])
    with s3_service() as (bucket, options):
        prefix = f"s3://{bucket}/bench-{uuid.uuid4().hex[:8]}"
        listing = [{"id": f"shape{i}", "uri": f"{prefix}/h5/shape{i}.h5"} for i in range(args.shapes)]
        writer = inrzoo.create_weights(f"{prefix}/weights.zarr", listing, [DAVIES], chunk_rows=args.chunk_rows,
                                       storage_options=options)
        chunk_rows = writer.attrs["layout"]["chunk_rows"]
        for unit in writer.regions():
            writer.write(unit, [RowResult(row=r, params=params[r]) for r in unit])
        fs = fsspec.filesystem("s3", **options)
        fs.pipe({item["uri"]: keras_h5(p) for item, p in zip(listing, params)})
        fs.invalidate_cache()

        ds = inrzoo.open_weights(f"{prefix}/weights.zarr", options)
        zarr_loader = ds.loader(batch_size=args.batch)
        h5_loader = torch.utils.data.DataLoader(PerShapeHDF5(fs, [item["uri"] for item in listing], names),
                                                batch_size=args.batch, num_workers=0)
        zarr_s, zarr_n = min(timed_pass(zarr_loader) for _ in range(args.repeats))
        h5_s, h5_n = min(timed_pass(h5_loader) for _ in range(args.repeats))
        assert zarr_n == h5_n == args.shapes
        check = next(iter(zarr_loader))["params"]["layers.3.weight"][5]
        assert torch.equal(check, torch.from_numpy(params[5]["layers.3.weight"]))

    zarr_rate, h5_rate = args.shapes / zarr_s, args.shapes / h5_s
    print(f"{args.shapes} Davies INRs (7,553 float32 parameters each), batches of {args.batch}, S3 (SeaweedFS, 127.0.0.1)")
    print(f"{'reader':<34} {'seconds':>8} {'INRs/s':>9}")
    print(f"{'weight dataset (Zarr, chunk=' + str(chunk_rows) + ')':<34} {zarr_s:>8.2f} {zarr_rate:>9.0f}")
    print(f"{'one HDF5 file per shape':<34} {h5_s:>8.2f} {h5_rate:>9.0f}")
    print(f"speed-up: {zarr_rate / h5_rate:.1f}x (target >= 10x)")


if __name__ == "__main__":
    main()
