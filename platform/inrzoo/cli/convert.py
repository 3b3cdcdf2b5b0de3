"""`inrzoo convert` and `inrzoo inspect`: weight datasets from shape collections, and their summary."""

from __future__ import annotations

import argparse
import json
import re

from inrzoo.cli.common import add_overrides, emit, flag_overrides, parse_options

OVERRIDE = re.compile(r"^[A-Za-z_][\w.]*=")
CONVERT_FLAGS = {"source": "source.uri", "collection": "source.collection", "out": "output.uri", "preset": "preset"}


def add_commands(commands) -> None:
    conv = commands.add_parser("convert", help="convert a shape collection into a weight dataset (resumes)",
                               description="Convert a shape collection into a weight dataset; running it again resumes.")
    conv.add_argument("source", nargs="?", default=None,
                      help="URI of the collection root (folder, s3://bucket/prefix, ...); default: the config's source.uri")
    conv.add_argument("--collection", default=None,
                      help="collection adapter: folder, thingi10k, shapenet, modelnet, manifold40, shapenetpart "
                           "(default: the config's, else folder)")
    conv.add_argument("--out", default=None, help="URI of the weight dataset to write or resume (default: the config's output.uri)")
    conv.add_argument("--preset", default=None,
                      help="davies | inr2vec | sergeev | lightsal | udf | occupancy (default: the config's, else davies)")
    conv.add_argument("--config", default=None, help="a YAML conversion config (jobs/configs/*.yaml)")
    add_overrides(conv)
    conv.set_defaults(run=run_convert)

    insp = commands.add_parser("inspect", help="summarize a weight dataset (rows by status, quality, size)")
    insp.add_argument("uri", help="URI of the weight dataset")
    insp.add_argument("--json", action="store_true", help="print the summary as JSON")
    insp.add_argument("--storage-option", dest="storage_options", action="append", default=[], metavar="KEY=VALUE",
                      help="fsspec storage option (repeatable), e.g. endpoint_url=http://127.0.0.1:8333")
    insp.set_defaults(run=run_inspect)


def convert_config(args: argparse.Namespace):
    """The conversion config: the file, then the flags given, then KEY=VALUE overrides."""
    from inrzoo.pipeline import load_convert_config

    if args.source is not None and OVERRIDE.match(args.source):  # `convert KEY=VALUE ...`: no SOURCE given
        args.overrides, args.source = [args.source, *args.overrides], None
    cfg = load_convert_config(args.config, [*flag_overrides(args, CONVERT_FLAGS), *args.overrides])
    if not cfg.source.uri or not cfg.output.uri:
        raise ValueError("convert needs a SOURCE and --out (or source.uri and output.uri in the config)")
    return cfg


def run_convert(args: argparse.Namespace) -> int:
    from inrzoo.pipeline import convert
    from inrzoo.pipeline.report import summary_table

    report = convert(convert_config(args))
    emit(summary_table(report))
    return 0 if report.pending == 0 else 1


def run_inspect(args: argparse.Namespace) -> int:
    from inrzoo.summary import summarize

    summary = summarize(args.uri, parse_options(args.storage_options))
    if args.json:
        emit(json.dumps(summary, indent=2, default=str))
    else:
        width = max(len(k) for k in summary)
        for key, value in summary.items():
            emit(f"{key.ljust(width)}  {value if not isinstance(value, dict) else json.dumps(value, default=str)}")
    return 0
