"""Secrets never reach an output: redaction of configs, URIs, texts and log records.

Storage options carry credentials (an `Authorization` header, S3 `key`/`secret`, a session
token) and the resolved config is written next to every output: dataset attributes and card,
MLflow params, tags and artifacts, logs. Everything that goes there passes through here first.

- By key: a value whose key names a credential (`is_secret_key`: secret, password, token,
  authorization, cookie, signature, credential, auth, or a word `key` as in `key`,
  `access_key`, `X-Api-Key`) is replaced by REDACTED.
- By value: the values of those keys, of credential variables of the environment
  (AWS_SECRET_ACCESS_KEY, *_TOKEN, *_PASSWORD, ...) and of `remember()`ed secrets are cut out of
  every other string (a URI or an error message quoting one).
- By form: the user-info part of URLs (`https://user:pass@host`) and credential query
  parameters (`X-Amz-Signature=`, `token=`, `sig=`) are replaced.

Chosen: values shorter than MIN_SECRET_CHARS are not searched for in other strings (a
one-letter "secret" would shred every text); they are still replaced under their own key.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "<redacted>"
MIN_SECRET_CHARS = 6

_SECRET_PARTS = ("secret", "password", "passwd", "token", "authorization", "credential", "cookie", "signature",
                 "apikey", "accesskey", "privatekey", "passphrase")
_SECRET_WORDS = {"key", "auth", "pwd", "sig", "sas"}
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/@\s?#]+)@")
_QUERY_SECRET = re.compile(r"(?P<name>[?&;](?:[A-Za-z0-9_.\-]*?)(?:signature|credential|token|secret|password|"
                           r"sig|key|auth)[A-Za-z0-9_.\-]*=)(?P<value>[^&;#\s'\"]+)", re.IGNORECASE)
# The shell's working directories: "pwd" is a password word, but these name a folder, and
# redacting them would blank every path under the current directory in every log line.
_NOT_SECRET_VARIABLES = {"PWD", "OLDPWD"}
_remembered: set[str] = set()


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(name))
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def is_secret_key(name: Any) -> bool:
    """Does a mapping key (option, header or variable name) name a credential?"""
    words = _words(name)
    joined = "".join(words)
    return any(part in joined for part in _SECRET_PARTS) or any(w in _SECRET_WORDS or w.endswith("key")
                                                                 for w in words)


def remember(*values: Any) -> None:
    """Secret values known to this process from elsewhere (scrubbed from every later output)."""
    _remembered.update(str(v) for v in values if v is not None and len(str(v)) >= MIN_SECRET_CHARS)


def environment_secrets(environ: Mapping[str, str] | None = None) -> set[str]:
    environ = os.environ if environ is None else environ
    return {v for k, v in environ.items()
            if k not in _NOT_SECRET_VARIABLES and is_secret_key(k) and len(v) >= MIN_SECRET_CHARS}


def secret_values(data: Any = None, environ: Mapping[str, str] | None = None) -> set[str]:
    """Values to cut out of texts: under secret keys in `data`, in the environment, remembered."""
    found = set(_remembered) | environment_secrets(environ)

    def walk(node: Any, secret: bool) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                walk(value, secret or is_secret_key(key))
        elif isinstance(node, (list, tuple, set)):
            for value in node:
                walk(value, secret)
        elif secret and node is not None and len(str(node)) >= MIN_SECRET_CHARS:
            found.add(str(node))

    walk(data, False)
    return found


def redact_text(text: str, values: Iterable[str] | None = None) -> str:
    """`text` with URL user-info, credential query parameters and known secret values replaced."""
    if not text:
        return text
    out = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{REDACTED}@", str(text))
    out = _QUERY_SECRET.sub(lambda m: f"{m['name']}{REDACTED}", out)
    for value in sorted(secret_values() if values is None else values, key=len, reverse=True):
        if value and value in out:
            out = out.replace(value, REDACTED)
    return out


def redact(data: Any, values: Iterable[str] | None = None) -> Any:
    """A copy of nested config data (dicts, lists, scalars) with secrets replaced."""
    known = secret_values(data) if values is None else set(values)

    def walk(node: Any, secret: bool) -> Any:
        if isinstance(node, Mapping):
            return {key: walk(value, secret or is_secret_key(key)) for key, value in node.items()}
        if isinstance(node, (list, tuple)):
            return type(node)(walk(value, secret) for value in node)
        if secret and node not in (None, "", {}, []):
            return REDACTED
        return redact_text(node, known) if isinstance(node, str) else node

    return walk(data, False)


def redact_overrides(overrides: Iterable[str]) -> list[str]:
    """Command-line `a.b=value` overrides with the values of secret keys replaced."""
    out = []
    for item in overrides:
        key, sep, value = str(item).partition("=")
        secret = sep and any(is_secret_key(part) for part in key.split("."))
        out.append(f"{key}={REDACTED}" if secret else redact_text(str(item)))
    return out


class _RedactingRecordFactory:
    """Wraps the log record factory: message and arguments of every record are redacted."""

    def __init__(self, factory):
        self.factory = factory

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.factory(*args, **kwargs)
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_text(a) if isinstance(a, str) else a for a in record.args)
        return record


def install_log_redaction() -> None:
    """Redact every log record of this process from now on (idempotent)."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _RedactingRecordFactory):
        logging.setLogRecordFactory(_RedactingRecordFactory(factory))
