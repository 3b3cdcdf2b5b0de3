"""Where a dataset lives: a URI plus storage options -> a Zarr v3 store and an fsspec filesystem.

fsspec filesystems swallow keyword arguments they do not know (a misspelled `endpoint_url`
silently falls back to AWS), so options are checked here against what the filesystem class
really accepts, and an unused one is an error that names it and the URI.
"""

from __future__ import annotations

import gzip
import inspect
from dataclasses import dataclass
from typing import Any

import fsspec

# Options every fsspec filesystem honours through AbstractFileSystem / DirCache.
_COMMON_OPTIONS = {"use_listings_cache", "listings_expiry_time", "max_paths", "skip_instance_cache"}
# HTTPFileSystem forwards its **kwargs to every aiohttp request; these are the ones that mean something.
_HTTP_REQUEST_OPTIONS = {"headers", "auth", "timeout", "ssl", "proxy", "proxy_auth", "cookies", "params"}
READ_ONLY_PROTOCOLS = {"http", "https"}


class StoreError(ValueError):
    """A dataset that cannot be opened or written as asked; the message names URI and reason."""


def protocol_of(uri: str) -> str:
    protocol = fsspec.utils.get_protocol(uri)
    return "file" if protocol in ("file", "local") else protocol


def accepted_options(protocol: str) -> set[str]:
    """Keyword names the filesystem class for `protocol` actually consumes."""
    cls = fsspec.get_filesystem_class(protocol)
    names = set(_COMMON_OPTIONS)
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for name, param in inspect.signature(init).parameters.items():
            if name != "self" and param.kind not in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
                names.add(name)
    if protocol in READ_ONLY_PROTOCOLS:
        names |= _HTTP_REQUEST_OPTIONS
    return names


def check_storage_options(uri: str, options: dict[str, Any] | None) -> dict[str, Any]:
    options = dict(options or {})
    protocol = protocol_of(uri)
    try:
        accepted = accepted_options(protocol)
    except (ImportError, ValueError) as exc:
        raise StoreError(f"{uri}: no filesystem for protocol {protocol!r} ({exc})") from exc
    unused = sorted(set(options) - accepted)
    if unused:
        raise StoreError(
            f"{uri}: storage option(s) {unused} are not used by the {protocol!r} filesystem "
            f"(it accepts: {', '.join(sorted(accepted))})"
        )
    return options


@dataclass
class Location:
    """A dataset root: the zarr store over it and the filesystem for side files (the card)."""

    uri: str
    storage_options: dict[str, Any]
    read_only: bool

    def __post_init__(self) -> None:
        self.uri = self.uri.rstrip("/")
        self.protocol = protocol_of(self.uri)
        self.storage_options = check_storage_options(self.uri, self.storage_options)
        if self.protocol in READ_ONLY_PROTOCOLS and not self.read_only:
            raise StoreError(f"{self.uri}: {self.protocol}:// is read-only; write to file://, s3:// or memory://")
        self.fs, self.path = fsspec.core.url_to_fs(self.uri, **self.storage_options)

    def zarr_store(self):
        from zarr.storage import FsspecStore, LocalStore

        if self.protocol == "file":
            return LocalStore(self.path, read_only=self.read_only)
        return FsspecStore.from_url(self.uri, storage_options=self.storage_options, read_only=self.read_only)

    def key(self, name: str) -> str:
        return f"{self.path}/{name}"

    def write_text(self, name: str, text: str) -> None:
        """Replace one object whole: object stores put it in one request; local files are
        written under a temporary name and renamed, so a kill never leaves half a file."""
        if self.protocol != "file":
            with self.fs.open(self.key(name), "w", encoding="utf-8") as handle:
                handle.write(text)
            return
        import os
        import uuid

        self.fs.makedirs(self.path, exist_ok=True)
        temporary = f"{self.key(name)}.{uuid.uuid4().hex}.partial"
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, self.key(name))

    def read_text(self, name: str) -> str:
        with self.fs.open(self.key(name), "r", encoding="utf-8") as handle:
            return handle.read()

    def exists(self, name: str) -> bool:
        return self.fs.exists(self.key(name))

    def stored_bytes(self, prefix: str = "") -> int:
        """Total bytes of the objects under the root (or under `prefix` inside it)."""
        target = self.key(prefix) if prefix else self.path
        return int(sum(size for size in self.fs.du(target, total=False).values()))

    def remove(self) -> None:
        if self.fs.exists(self.path):
            self.fs.rm(self.path, recursive=True)


def is_transient(exc: BaseException) -> bool:
    """Connection-level failures: OSError (aiohttp's included) and botocore's transport errors.
    Bytes that do not decode (gzip's BadGzipFile is an OSError) are not transient."""
    if isinstance(exc, (gzip.BadGzipFile, EOFError)):
        return False
    if isinstance(exc, (OSError, TimeoutError, ConnectionError)):
        return True
    try:
        from botocore.exceptions import ConnectionError as BotoConnectionError, HTTPClientError
    except ImportError:
        return False
    return isinstance(exc, (BotoConnectionError, HTTPClientError))
