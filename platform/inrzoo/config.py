"""Typed configuration: dataclasses built from YAML plus `a.b=c` overrides.

YAML holds values only; the dataclass is the schema. Unknown keys and values of the wrong type
are errors that name the key and the file they came from, so a typo never silently falls back
to a default. `to_dict` gives back plain data, which is what gets written next to every output.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any, Iterable, Literal, TypeVar, Union

T = TypeVar("T")


def _yaml():
    # Imported on use: building configs from code (inrzoo.fit on a bare GPU box with only
    # torch and numpy) needs no YAML parser.
    import yaml

    return yaml


class ConfigError(ValueError):
    """A configuration value that does not fit its schema; the message names key and source."""


def load(cls: type[T], path: str | Path | None = None, overrides: Iterable[str] = ()) -> T:
    """Build `cls` from a YAML file (optional) and `a.b=c` overrides (applied in order)."""
    data: dict[str, Any] = {}
    source = "<defaults>"
    if path is not None:
        source = str(path)
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read config file ({exc.strerror})") from exc
        yaml = _yaml()
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{source}: not valid YAML ({exc})") from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{source}: the top level must be a mapping, got {type(loaded).__name__}")
        data = loaded or {}
    overrides = list(overrides)
    if overrides:
        data = apply_overrides(data, overrides)
        source = f"{source} + overrides {overrides}"
    return from_dict(cls, data, source=source)


def apply_overrides(data: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Return a copy of `data` with each `a.b=c` set; the value is parsed as YAML (1e-4, true, [1,2])."""
    result = json.loads(json.dumps(data))
    yaml = _yaml()
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {item!r}: expected the form key.path=value")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as exc:
            raise ConfigError(f"override {item!r}: value is not valid YAML ({exc})") from exc
        node = result
        parts = key.strip().split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override {item!r}: {part!r} is not a section")
            node = child
        node[parts[-1]] = value
    return result


def from_dict(cls: type[T], data: Any, source: str = "<dict>") -> T:
    """Build dataclass `cls` from plain data, checking every key and type against the schema."""
    return convert(cls, data, path="", source=source)


def convert(tp: Any, value: Any, path: str, source: str) -> Any:
    """Check and build `value` as type `tp` at `path` of a config (errors name path and source).

    A class with a `__config_from__(value, path, source)` classmethod builds itself: sections whose
    schema depends on a value (a model's config chosen by its `name`) are typed that way."""
    return _convert(tp, value, path, source)


def to_dict(obj: Any) -> Any:
    """Plain, JSON-able data (dicts, lists, scalars) for a config dataclass instance."""
    if hasattr(obj, "__config_to__") and not isinstance(obj, type):
        return obj.__config_to__()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): to_dict(v) for k, v in obj.items()}
    if isinstance(obj, Path):
        return str(obj)
    return obj


def dump_yaml(obj: Any) -> str:
    """The resolved config as YAML text, ready to be written next to an output."""
    return _yaml().safe_dump(to_dict(obj), sort_keys=False)


def write_resolved(obj: Any, uri: str, **storage_options: Any) -> None:
    """Write the resolved config as YAML to any fsspec URI (e.g. next to a dataset)."""
    import fsspec

    with fsspec.open(uri, "w", **storage_options) as handle:
        handle.write(dump_yaml(obj))


def _where(path: str, source: str) -> str:
    return f"{source}: key {path or '<root>'!r}"


def _convert(tp: Any, value: Any, path: str, source: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if isinstance(tp, type) and hasattr(tp, "__config_from__"):
        return tp.__config_from__(value, path, source)
    if dataclasses.is_dataclass(tp):
        return _convert_dataclass(tp, value, path, source)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _convert(option, value, path, source)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(f"{_where(path, source)}: {value!r} fits none of {tp} ({'; '.join(errors)})")
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{_where(path, source)}: {value!r} is not one of {list(args)}")
        return value
    if origin in (list, tuple) or tp in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{_where(path, source)}: expected a list, got {type(value).__name__} {value!r}")
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            if len(args) != len(value):
                raise ConfigError(f"{_where(path, source)}: expected {len(args)} items, got {len(value)}")
            return tuple(_convert(a, v, f"{path}[{i}]", source) for i, (a, v) in enumerate(zip(args, value)))
        item = args[0] if args else Any
        items = [_convert(item, v, f"{path}[{i}]", source) for i, v in enumerate(value)]
        return tuple(items) if (origin is tuple or tp is tuple) else items
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{_where(path, source)}: expected a mapping, got {type(value).__name__}")
        key_t, val_t = args if args else (Any, Any)
        return {_convert(key_t, k, path, source): _convert(val_t, v, f"{path}.{k}", source) for k, v in value.items()}
    return _convert_scalar(tp, value, path, source)


def _convert_scalar(tp: Any, value: Any, path: str, source: str) -> Any:
    # bool is an int in Python: refuse it where a number is expected, and numbers where a bool is.
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    elif tp is Path:
        if isinstance(value, (str, Path)):
            return Path(value)
    elif tp is type(None):
        if value is None:
            return None
    elif isinstance(tp, type) and isinstance(value, tp):
        return value
    raise ConfigError(
        f"{_where(path, source)}: expected {getattr(tp, '__name__', tp)}, got {type(value).__name__} {value!r}"
    )


def _convert_dataclass(cls: Any, value: Any, path: str, source: str) -> Any:
    if dataclasses.is_dataclass(value) and isinstance(value, cls):
        return value
    if not isinstance(value, dict):
        raise ConfigError(f"{_where(path, source)}: expected a mapping for {cls.__name__}, got {value!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(value) - set(fields))
    if unknown:
        prefix = f"{path}." if path else ""
        raise ConfigError(
            f"{source}: unknown key(s) {[prefix + k for k in unknown]} for {cls.__name__}; "
            f"known keys: {sorted(fields)}"
        )
    kwargs = {}
    for name, item in value.items():
        kwargs[name] = _convert(hints[name], item, f"{path}.{name}" if path else name, source)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{_where(path, source)}: {cls.__name__} rejected the values: {exc}") from exc
