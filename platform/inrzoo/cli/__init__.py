"""The `inrzoo` command line: one module per command group, one error path.

    inrzoo convert SOURCE --out out/ds.zarr [--preset davies] [--config FILE] [KEY=VALUE ...]
    inrzoo inspect out/ds.zarr [--json]
    inrzoo train --config zoo/configs/inr2vec/smoke.yaml [KEY=VALUE ...]
    inrzoo task classification --model models:/NAME@ALIAS --config FILE [KEY=VALUE ...]
    inrzoo zoo list

A flag overrides the config file only when it is given. Errors are one line naming the input,
with exit status 2; `--debug` shows the traceback instead. Progress goes to stderr through
logging (`--quiet` keeps warnings only).
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from typing import Sequence

from inrzoo.cli import convert, zoo

GROUPS = (convert, zoo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inrzoo", description="Shape collections as datasets of implicit neural "
                                                                "representations, and a model zoo trained on them.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument("--quiet", action="store_true", help="log warnings only (no progress lines)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.add_commands(commands)
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    # KEY=VALUE overrides may follow any flag: argparse hands those it could not place back here.
    args, extra = parser.parse_known_args(argv)
    stray = [item for item in extra if "=" not in item or item.startswith("-")]
    if stray or (extra and not hasattr(args, "overrides")):
        parser.error(f"unrecognized arguments: {' '.join(stray or extra)}")
    if extra:
        args.overrides = [*args.overrides, *extra]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # Our progress lines at INFO; other libraries (MLflow, Ray, alembic) only when they warn.
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, format="%(message)s",
                        stream=sys.stderr, force=True)
    logging.getLogger("inrzoo").setLevel(logging.DEBUG if args.debug else logging.WARNING if args.quiet else logging.INFO)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        sys.stderr.write(f"inrzoo {args.command}: interrupted\n")
        return 130
    except Exception as exc:  # one line for the user; the traceback only when asked for
        if args.debug:
            traceback.print_exc()
        sys.stderr.write(f"inrzoo {args.command}: error: {one_line(exc)}\n")
        return 2


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, (ValueError, OSError, KeyError, TypeError)) else f"{type(exc).__name__}: {text}"


if __name__ == "__main__":
    sys.exit(main())
