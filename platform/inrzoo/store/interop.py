"""Other INR weight formats in, one INR out.

Importers read three published layouts into a dataset (one row per INR, parameters in the
canonical order of an inrzoo architecture, status ok, `meta.imported_from` naming the format):

- Davies et al. (Keras 2 HDF5, one file per shape, 8x32 ReLU + tanh): `model.save()` files
  (`model_weights/<layer>/<layer>/kernel:0`, `bias:0`, `layer_names` attributes) and
  `save_weights()` files (the same below the root). Kernels are [in, out]: transposed.
- inr2vec (one HDF5 file per shape): `params` = all parameters flattened in the torch
  state_dict order (weight [out, in] then bias, layer by layer), `class_id`.
- fit-a-nef (sharded HDF5, one file per range of INRs): `params` [K, P] flat, `param_config`
  = JSON list of [flax key, shape] in the order of the flat vector, `labels` [K]. Flax Dense
  kernels are [in, out]: transposed.
- DWSNets and NFN (.pth torch state_dicts of 2D image SIRENs, read with weights_only=True) and
  any state_dict of Linear layers: store/interop_torch.py.

`export_inr` writes one INR as safetensors plus its JSON spec. No pickle anywhere.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import posixpath
from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath
from typing import Any

import fsspec
import numpy as np

from inrzoo.store.interop_torch import IMAGE_SIREN, read_dwsnets_pth, read_nfn_pth, read_state_dict_pth
from inrzoo.store.records import RowResult
from inrzoo.store.schema import ArchLayout
from inrzoo.store.writer import WeightWriter, create_weights


class InteropError(ValueError):
    """A source file that does not follow the layout it was imported as (names file and reason)."""


def _read_bytes(uri: str, storage_options: dict | None) -> bytes:
    with fsspec.open(uri, "rb", **(storage_options or {})) as handle:
        return handle.read()


def _h5(data: bytes, uri: str):
    import h5py

    try:
        return h5py.File(io.BytesIO(data), "r")
    except OSError as exc:
        raise InteropError(f"{uri}: not an HDF5 file ({exc})") from exc


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _check_shapes(params: dict[str, np.ndarray], layout: ArchLayout, uri: str) -> dict[str, np.ndarray]:
    if list(params) != list(layout.param_shapes):
        raise InteropError(f"{uri}: parameters {list(params)} do not match the architecture's {list(layout.param_shapes)}")
    for name, value in params.items():
        if tuple(value.shape) != layout.param_shapes[name]:
            raise InteropError(f"{uri}: {name} has shape {tuple(value.shape)}, the architecture expects "
                               f"{layout.param_shapes[name]}")
    return params


def _dense_to_params(layers: Sequence[tuple[np.ndarray, np.ndarray]], layout: ArchLayout, uri: str,
                     transpose: bool) -> dict[str, np.ndarray]:
    """Dense layers (kernel, bias) in order -> canonical parameters (layers.i.*, then output.*)."""
    names = list(layout.param_shapes)
    if len(layers) * 2 != len(names):
        raise InteropError(f"{uri}: {len(layers)} dense layers, the architecture has {len(names) // 2}")
    params = {}
    for (kernel, bias), weight_name, bias_name in zip(layers, names[0::2], names[1::2]):
        params[weight_name] = np.asarray(kernel, np.float32).T if transpose else np.asarray(kernel, np.float32)
        params[bias_name] = np.asarray(bias, np.float32)
    return _check_shapes(params, layout, uri)


# --- readers: one source file -> [(params, label, extra meta)] ---------------------------------------
def read_keras_h5(data: bytes, uri: str, layout: ArchLayout) -> list[tuple[dict, Any, dict]]:
    with _h5(data, uri) as f:
        weights = f["model_weights"] if "model_weights" in f else f
        if "layer_names" not in weights.attrs:
            raise InteropError(f"{uri}: no 'layer_names' attribute; not a Keras 2 HDF5 weight file")
        dense = []
        for layer in (_text(n) for n in weights.attrs["layer_names"]):
            names = [_text(n) for n in weights[layer].attrs.get("weight_names", [])]
            if not names:
                continue  # InputLayer, activations: no weights
            by_kind = {PurePosixPath(n).name.split(":")[0]: weights[layer][n][()] for n in names}
            if set(by_kind) != {"kernel", "bias"}:
                raise InteropError(f"{uri}: layer {layer!r} holds {sorted(by_kind)}, expected a Dense kernel and bias")
            dense.append((by_kind["kernel"], by_kind["bias"]))
        keras_version = _text(f.attrs.get("keras_version", ""))
    return [(_dense_to_params(dense, layout, uri, transpose=True), None, {"keras_version": keras_version})]


def read_inr2vec_h5(data: bytes, uri: str, layout: ArchLayout) -> list[tuple[dict, Any, dict]]:
    with _h5(data, uri) as f:
        if "params" not in f:
            raise InteropError(f"{uri}: no 'params' dataset; not an inr2vec INR file")
        flat = np.asarray(f["params"][()], dtype=np.float32).reshape(-1)
        label = int(np.asarray(f["class_id"][()]).reshape(-1)[0]) if "class_id" in f else None
    return [(_unflatten(flat, layout, uri), label, {})]


def read_fit_a_nef_h5(data: bytes, uri: str, layout: ArchLayout) -> list[tuple[dict, Any, dict]]:
    with _h5(data, uri) as f:
        if "params" not in f or "param_config" not in f:
            raise InteropError(f"{uri}: needs 'params' and 'param_config' datasets (fit-a-nef storage)")
        flat = np.asarray(f["params"][()], dtype=np.float32)
        config = json.loads(_text(f["param_config"][0]))
        labels = np.asarray(f["labels"][()]).reshape(-1) if "labels" in f else [None] * len(flat)
    sizes = [math.prod(shape) for _, shape in config]
    if flat.ndim != 2 or flat.shape[1] != sum(sizes):
        raise InteropError(f"{uri}: params of shape {flat.shape} do not hold the {sum(sizes)} values of param_config")
    layers: dict[str, dict[str, np.ndarray]] = {}
    rows = []
    for k in range(flat.shape[0]):
        layers.clear()
        offset = 0
        for (key, shape), size in zip(config, sizes):
            prefix, _, kind = key.rpartition(".")
            layers.setdefault(prefix, {})[kind] = flat[k, offset:offset + size].reshape(shape)
            offset += size
        dense = []
        for prefix, parts in layers.items():
            if set(parts) != {"kernel", "bias"}:
                raise InteropError(f"{uri}: layer {prefix!r} holds {sorted(parts)}, expected kernel and bias")
            dense.append((parts["kernel"], parts["bias"]))
        label = None if labels[k] is None else int(labels[k])
        rows.append((_dense_to_params(dense, layout, uri, transpose=True), label, {"shard_index": k}))
    return rows


def _unflatten(flat: np.ndarray, layout: ArchLayout, uri: str) -> dict[str, np.ndarray]:
    if flat.size != layout.num_params:
        raise InteropError(f"{uri}: {flat.size} parameters, the architecture has {layout.num_params}")
    params, offset = {}, 0
    for name, shape in layout.param_shapes.items():
        size = math.prod(shape)
        params[name] = flat[offset:offset + size].reshape(shape)
        offset += size
    return params


READERS = {"keras": read_keras_h5, "inr2vec": read_inr2vec_h5, "fit_a_nef": read_fit_a_nef_h5,
           "dwsnets": read_dwsnets_pth, "nfn": read_nfn_pth, "state_dict": read_state_dict_pth}
DEFAULT_ARCHS = {"keras": ("relu_mlp", {}), "inr2vec": ("siren", {}), "fit_a_nef": ("siren", {}),
                 "dwsnets": ("siren", IMAGE_SIREN), "nfn": ("siren", IMAGE_SIREN)}


def source_stems(uris: Sequence[str]) -> dict[str, str]:
    """Row ids for imported files: their paths below the sources' common folder, without the
    suffix. Zoos such as DWSNets name every file alike (`<label>/<n>/permanent_ckpt.pth`), so
    the file's stem alone would repeat."""
    paths = {uri: PurePosixPath(uri.split("://", 1)[-1]) for uri in uris}
    parents = [str(path.parent) for path in paths.values()]
    common = PurePosixPath(posixpath.commonpath(parents)) if len(set(parents)) > 1 else None
    return {uri: (str(path.relative_to(common).with_suffix("")) if common else path.stem) for uri, path in paths.items()}


def import_weights(kind: str, sources: Iterable[str], dest: str, *, arch: Any = None, label_names: Sequence[str] | None = None,
                   split: str | None = None, storage_options: dict | None = None,
                   source_options: dict | None = None, **create_options: Any) -> WeightWriter:
    """Import files of format `kind` (one of READERS) into a new dataset at `dest`.

    arch: the inrzoo architecture the weights belong to (default: Davies' relu_mlp for keras,
    inr2vec's SIREN 4x512 for inr2vec and fit_a_nef, the 2D image SIREN 2-32-32-1 for dwsnets
    and nfn; state_dict needs it); label_names maps integer class ids to names; split, when
    given, replaces the split a format's layout implies (DWSNets' train/test folders).
    """
    if kind not in READERS:
        raise ValueError(f"unknown import format {kind!r}; expected one of {sorted(READERS)}")
    if arch is None:
        from inrzoo.inr import ArchSpec

        if kind not in DEFAULT_ARCHS:
            raise ValueError(f"import format {kind!r} has no default architecture; give arch (an ArchSpec)")

        name, overrides = DEFAULT_ARCHS[kind]
        arch = ArchSpec.default(name, **overrides)
    layout = ArchLayout.from_spec(arch)
    listing, results = [], []
    sources = list(sources)
    stems = source_stems(sources)
    for uri in sources:
        data = _read_bytes(uri, source_options)
        digest = hashlib.sha256(data).hexdigest()
        for k, (params, label, meta) in enumerate(READERS[kind](data, uri, layout)):
            stem = stems[uri]
            if label is not None and label_names is not None:
                label = label_names[int(label)]
            row_split = split if split is not None else meta.pop("split", None)
            listing.append({"id": stem if "shard_index" not in meta else f"{stem}/{k}", "uri": uri,
                            "label": None if label is None else str(label), "split": row_split, "sha256": digest,
                            "meta": {"imported_from": kind, **{m: v for m, v in meta.items() if v != ""}}})
            results.append(RowResult(row=len(results), params=params, arch=arch, sha256=digest))
    if not listing:
        raise ValueError(f"{dest}: no source files given to import")
    writer = create_weights(dest, listing, [layout], storage_options=storage_options,
                            collection={"name": f"imported {kind}", "format": kind}, **create_options)
    for unit in writer.regions():
        writer.write(unit, results[unit.start:unit.stop])
    return writer


def export_inr(dataset: Any, index: int, dest: str, storage_options: dict | None = None) -> tuple[str, str]:
    """Write INR `index` of a WeightDataset as <dest>.safetensors + <dest>.json; returns both URIs."""
    from safetensors.numpy import save

    record = dataset[index]
    if record.params is None:
        raise ValueError(f"{dataset.uri}: row {record.row} ({record.id}) has no parameters (status {record.status})")
    spec = record.arch if isinstance(record.arch, dict) else json.loads(record.arch.to_json())
    info = {"format": "inrzoo-inr", "dataset": dataset.uri, "row": record.row, "id": record.id,
            "source_uri": record.source_uri, "sha256": record.sha256, "label": record.label_name,
            "transform": record.transform, "spec": spec, "param_order": list(record.params),
            "forward": "docs/format.md of inrzoo, section 5"}
    tensors = {name: value.float().numpy() for name, value in record.params.items()}
    blob = save(tensors, metadata={"spec": json.dumps(spec, sort_keys=True), "id": record.id,
                                   "param_order": json.dumps(list(tensors))})
    paths = (f"{dest}.safetensors", f"{dest}.json")
    with fsspec.open(paths[0], "wb", **(storage_options or {})) as handle:
        handle.write(blob)
    with fsspec.open(paths[1], "w", **(storage_options or {})) as handle:
        handle.write(json.dumps(info, indent=2, sort_keys=True) + "\n")
    return paths
