"""Object-store calls retried with exponential backoff, then a clear failure naming the store.

Transient errors (connection refused, timeouts, 5xx) are retried; a missing file is not
transient and is left to the caller. After the last attempt StoreUnavailableError stops the
unit: its rows stay pending, so resubmitting the job once the store is back completes it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

from inrzoo.store.storage import is_transient

log = logging.getLogger(__name__)
T = TypeVar("T")


class StoreUnavailableError(RuntimeError):
    """The object store did not answer after every retry."""


def with_retries(action: Callable[[], T], what: str, store: str, attempts: int, backoff_s: float) -> T:
    """Run `action`, retrying OSError-like failures with exponential backoff."""
    delay = backoff_s
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except FileNotFoundError:
            raise
        except Exception as exc:
            if not is_transient(exc):
                raise
            if attempt == attempts:
                raise StoreUnavailableError(
                    f"{what}: the object store at {store} did not answer after {attempts} attempts "
                    f"({type(exc).__name__}: {exc})"
                ) from exc
            log.warning("[inrzoo] %s: %s from %s; retry %d/%d in %.1fs", what, type(exc).__name__, store, attempt,
                        attempts - 1, delay)
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def store_name(uri: str, storage_options: dict[str, Any]) -> str:
    """The URI with the endpoint that serves it (from the options, else the environment s3fs reads)."""
    endpoint = (storage_options.get("client_kwargs") or {}).get("endpoint_url") or storage_options.get("endpoint_url")
    if not endpoint and uri.startswith(("s3://", "s3a://")):
        endpoint = os.environ.get("FSSPEC_S3_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL")
    return f"{uri} (endpoint {endpoint})" if endpoint else uri
