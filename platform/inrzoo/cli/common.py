"""Pieces the command modules share: config overrides from flags given, storage options."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def emit(text: str) -> None:
    """A command's result on stdout (progress and errors go to stderr)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def add_overrides(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                        help="override any config field, e.g. fit.max_epochs=20 (applied after the config file)")


def flag_overrides(args: argparse.Namespace, mapping: dict[str, str]) -> list[str]:
    """`key=value` for each flag the user gave (flags default to None, so an absent flag never
    replaces a value of the config file)."""
    return [f"{key}={getattr(args, flag)}" for flag, key in mapping.items() if getattr(args, flag) is not None]


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """KEY=VALUE pairs (values parsed as YAML) as a dict of storage options."""
    import yaml

    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"storage option {pair!r}: expected KEY=VALUE")
        options[key] = yaml.safe_load(value)
    return options
