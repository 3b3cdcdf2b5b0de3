"""`inrzoo` command line: convert, inspect, and the model zoo.

    inrzoo convert SOURCE --collection folder --out out/ds.zarr --preset davies --set fit.max_epochs=20
    inrzoo inspect out/ds.zarr [--json]
    inrzoo zoo list
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="inrzoo", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    conv = commands.add_parser("convert", help="convert a shape collection into a weight dataset")
    conv.add_argument("source", help="URI of the collection root (folder, s3://bucket/prefix, ...)")
    conv.add_argument("--collection", default="folder", help="collection adapter (folder, thingi10k, shapenet, ...)")
    conv.add_argument("--out", required=True, help="URI of the weight dataset to write (or resume)")
    conv.add_argument("--preset", default="davies", help="davies | inr2vec | sergeev | lightsal | udf | occupancy")
    conv.add_argument("--config", help="a YAML conversion config (jobs/configs/*.yaml); flags override it")
    conv.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                      help="override any config field, e.g. fit.max_epochs=20 (repeatable)")

    insp = commands.add_parser("inspect", help="summarize a weight dataset")
    insp.add_argument("uri")
    insp.add_argument("--json", action="store_true", help="print the summary as JSON")
    insp.add_argument("--storage-option", dest="storage_options", action="append", default=[], metavar="KEY=VALUE")

    zoo = commands.add_parser("zoo", help="the registered model zoo (MLflow)")
    zoo_commands = zoo.add_subparsers(dest="zoo_command", required=True)
    zoo_list = zoo_commands.add_parser("list", help="list registered models, versions and aliases")
    zoo_list.add_argument("--tracking-uri", default="", help="MLflow tracking URI (default: the embedded store)")

    args = parser.parse_args(argv)
    try:
        if args.command == "convert":
            return _convert(args)
        if args.command == "inspect":
            return _inspect(args)
        return _zoo_list(args)
    except (ValueError, OSError, KeyError) as exc:
        print(f"inrzoo {args.command}: error: {exc}", file=sys.stderr)
        return 2


def _convert(args: argparse.Namespace) -> int:
    from inrzoo.pipeline import convert, load_convert_config
    from inrzoo.pipeline.report import summary_table

    overrides = [f"source.uri={args.source}", f"source.collection={args.collection}", f"output.uri={args.out}",
                 f"preset={args.preset}", *args.overrides]
    report = convert(load_convert_config(args.config, overrides))
    print(summary_table(report))
    return 0 if report.pending == 0 else 1


def _inspect(args: argparse.Namespace) -> int:
    from inrzoo.summary import summarize

    summary = summarize(args.uri, _options(args.storage_options))
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        width = max(len(k) for k in summary)
        for key, value in summary.items():
            print(f"{key.ljust(width)}  {value if not isinstance(value, dict) else json.dumps(value, default=str)}")
    return 0


def _zoo_list(args: argparse.Namespace) -> int:
    from inrzoo.registry import list_zoo

    rows = list_zoo(args.tracking_uri)
    if not rows:
        print("no registered models")
    for row in rows:
        print(f"{row['name']}  v{row['version']}  aliases={','.join(row['aliases']) or '-'}  {row['description']}")
    return 0


def _options(pairs: list[str]) -> dict[str, Any]:
    import yaml

    options: dict[str, Any] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        options[key] = yaml.safe_load(value)
    return options


if __name__ == "__main__":
    sys.exit(main())
