"""`inrzoo export`, `inrzoo import` and `inrzoo publish`: INRs out as safetensors + JSON spec,
other zoos' weights in, datasets out as checksummed, numbered versions.

    inrzoo export out/ds.zarr --rows 0:4 --out exported/
    inrzoo import dwsnets 'mnist-inrs/**/*.pth' --out out/mnist.zarr [--split train] [--labels a,b,...]
    inrzoo publish out/ds.zarr s3://bucket/inrs/thingi      # -> s3://bucket/inrs/thingi/v1/manifest.json
"""

from __future__ import annotations

import argparse
import json
import time

from inrzoo.cli.common import emit, parse_options

IMPORT_HELP = {
    "keras": "Davies et al.'s Keras 2 HDF5 files, one per shape (8x32 ReLU + tanh)",
    "inr2vec": "inr2vec HDF5 files, one per shape (SIREN 4x512)",
    "fit_a_nef": "fit-a-nef sharded HDF5 files (params + param_config)",
    "dwsnets": "DWSNets .pth state_dicts (2D image SIREN 2-32-32-1, label and split from the folders)",
    "nfn": "NFN .pth state_dicts (2D image SIREN 2-32-32-1, label from '_<d>s' in the path)",
    "state_dict": "any .pth state_dict of Linear layers, with --arch describing it",
}


def add_commands(commands) -> None:
    from inrzoo.cli.shapes import DEFAULT_ROWS, ROWS_HELP, STORAGE_OPTION_HELP

    export = commands.add_parser("export", help="write INRs of a dataset as safetensors + JSON spec, one pair per row",
                                 description="Write each selected row as <out>/<position>_<id>.safetensors (its "
                                             "parameters, float32, canonical order) and .json (architecture spec, "
                                             "source, label, normalization transform). Nothing needs unpickling.")
    export.add_argument("dataset", help="URI of the weight dataset")
    export.add_argument("--rows", default=DEFAULT_ROWS, help=ROWS_HELP)
    export.add_argument("--out", required=True, help="folder to write into (local path or fsspec URI)")
    export.add_argument("--storage-option", dest="storage_options", action="append", default=[], metavar="KEY=VALUE",
                        help=STORAGE_OPTION_HELP)
    export.set_defaults(run=run_export)

    formats = "; ".join(f"{k}: {v}" for k, v in IMPORT_HELP.items())
    imp = commands.add_parser("import", help="read another project's INR weights into a new weight dataset",
                              description=f"Import INR weight files into a new dataset, one row per INR. Formats: {formats}. "
                                          "Torch files are read with weights_only=True; a file that needs unpickling "
                                          "is refused.")
    imp.add_argument("format", choices=sorted(IMPORT_HELP), metavar="FORMAT", help=f"one of: {', '.join(sorted(IMPORT_HELP))}")
    imp.add_argument("sources", nargs="+", help="files or glob patterns (local paths or fsspec URIs; ** recurses)")
    imp.add_argument("--out", required=True, help="URI of the dataset to create (must not exist)")
    imp.add_argument("--arch", default=None,
                     help="architecture as ArchSpec JSON or a path to one (default: the format's own: relu_mlp 8x32 "
                          "for keras, SIREN 4x512 for inr2vec and fit_a_nef, SIREN 2-32-32-1 for dwsnets and nfn)")
    imp.add_argument("--split", default=None, help="split of every row (default: what the format's layout says, else none)")
    imp.add_argument("--labels", default=None,
                     help="comma-separated class names for integer class ids 0,1,... (default: ids kept as labels)")
    imp.add_argument("--dtype", choices=("float32", "float16", "bfloat16"), default=None,
                     help="storage precision of the parameters (default: the store's default)")
    imp.set_defaults(run=run_import)

    pub = commands.add_parser("publish", help="copy a dataset to a bucket or HTTP folder as a new numbered version",
                              description="Copy every file of a dataset to DEST/v<N>/ (N = the next version) with "
                                          "manifest.json (sha256 and size of every file, the sources' licences, the "
                                          "dataset digest) and the card stamped with its version; DEST/versions.json "
                                          "lists the versions. Readers open DEST/v<N>/manifest.json (or "
                                          "DEST/versions.json for the latest) with inrzoo.open_weights, through a "
                                          "local cache that checks every checksum. An unchanged dataset is not "
                                          "published twice.")
    pub.add_argument("dataset", help="URI of the weight dataset to publish")
    pub.add_argument("dest", help="where versions go: any writable fsspec URI, e.g. s3://bucket/inrs/NAME or a folder "
                                  "a web server shows over HTTP")
    pub.add_argument("--storage-option", dest="storage_options", action="append", default=[], metavar="KEY=VALUE",
                     help=STORAGE_OPTION_HELP)
    pub.add_argument("--dest-option", dest="dest_options", action="append", default=[], metavar="KEY=VALUE",
                     help="fsspec storage option of DEST (repeatable)")
    pub.set_defaults(run=run_publish)


def run_export(args: argparse.Namespace) -> int:
    import fsspec

    from inrzoo.cli.shapes import open_rows, row_file_stem
    from inrzoo.store.interop import export_inr

    dataset, positions = open_rows(args.dataset, args.rows, args.storage_options)
    fs, root = fsspec.core.url_to_fs(args.out)
    fs.makedirs(root, exist_ok=True)
    protocol = args.out.split("://")[0] + "://" if "://" in args.out else ""
    for position in positions:
        record = dataset.get_records([position], with_params=False)[0]
        tensors, spec = export_inr(dataset, position, f"{protocol}{root}/{row_file_stem(position, record.id)}")
        emit(f"{tensors} + {spec.rsplit('/', 1)[-1]}: row {record.row} ({record.id})")
    emit(f"exported {len(positions)} INRs of {args.dataset} to {args.out}")
    return 0


def expand_sources(patterns: list[str]) -> list[str]:
    import fsspec

    sources = []
    for pattern in patterns:
        if any(ch in pattern for ch in "*?["):
            fs, _ = fsspec.core.url_to_fs(pattern)
            matched = sorted(fs.glob(pattern))
            protocol = pattern.split("://")[0] + "://" if "://" in pattern else ""
            if not matched:
                raise FileNotFoundError(f"{pattern}: no file matches")
            sources += [f"{protocol}{m}" if protocol and not m.startswith(protocol) else m for m in matched]
        else:
            sources.append(pattern)
    return sources


def parse_arch(text: str | None):
    from pathlib import Path

    from inrzoo.inr import ArchSpec

    if text is None:
        return None
    source = text if not text.lstrip().startswith("{") else "--arch"
    body = Path(text).read_text() if source != "--arch" else text
    return ArchSpec.from_json(body, source=source)


def run_import(args: argparse.Namespace) -> int:
    from inrzoo.store.interop import import_weights

    sources = expand_sources(args.sources)
    label_names = args.labels.split(",") if args.labels else None
    options = {"dtype": args.dtype} if args.dtype else {}
    started = time.perf_counter()
    writer = import_weights(args.format, sources, args.out, arch=parse_arch(args.arch), label_names=label_names,
                            split=args.split, **options)
    writer.finalize()
    emit(json.dumps({"dataset": args.out, "format": args.format, "rows": writer.num_rows, "files": len(sources),
                     "seconds": round(time.perf_counter() - started, 1)}))
    return 0


def run_publish(args: argparse.Namespace) -> int:
    from inrzoo.store.publish import publish

    manifest = publish(args.dataset, args.dest, storage_options=parse_options(args.storage_options),
                       dest_options=parse_options(args.dest_options))
    emit(json.dumps({"version": manifest["version"], "manifest": manifest["manifest_uri"], "files": len(manifest["files"]),
                     "bytes": sum(f["bytes"] for f in manifest["files"].values()), "digest": manifest["digest"],
                     "licences": manifest["licences"]}))
    return 0
