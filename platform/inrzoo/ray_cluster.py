"""Joining the Ray cluster a job should use, or starting a small local one.

Every driver (conversions, zoo training, classifier zoos) connects the same way: an explicit
address, else RAY_ADDRESS. `infra/local/up` exports RAY_ADDRESS as the job API URL (what
`ray job submit` wants), which `ray.init` refuses; a driver started outside a job joins that
cluster through its GCS address (INRZOO_RAY_GCS_ADDRESS) instead. With neither, a local Ray
is started (address="local", so a stale cluster file from an earlier `ray start` is never
followed).
"""

from __future__ import annotations

import os

DEFAULT_OBJECT_STORE_MEMORY = 512 * 1024 * 1024


def cluster_address(explicit: str = "") -> str:
    """The host:port (or ray:// URL) to join, or "" for a local Ray."""
    address = explicit or os.environ.get("RAY_ADDRESS", "")
    if address.startswith(("http://", "https://")):
        gcs = os.environ.get("INRZOO_RAY_GCS_ADDRESS", "")
        if not gcs:
            raise ValueError(f"RAY_ADDRESS={address} is a job API URL: submit with `ray job submit`, "
                             "or set the cluster's host:port (runtime.ray_address)")
        return gcs
    return address


def ensure_ray(address: str = "", object_store_memory: int | None = DEFAULT_OBJECT_STORE_MEMORY,
               max_cpus: int | None = 2) -> None:
    """Connect once per process: to `cluster_address(address)`, else a local Ray on at most
    `max_cpus` CPUs (None: all) with `object_store_memory` bytes (None: Ray's default).
    Conversions keep the local Ray small (2 CPUs, 512 MiB: fitting is one process per core);
    training jobs leave both to Ray."""
    import ray

    if ray.is_initialized():
        return
    joined = cluster_address(address)
    if joined:
        ray.init(address=joined, log_to_driver=True)
        return
    # Explicit auth mode: a local ray.init would otherwise write ~/.ray/auth_token, after which a
    # later `ray start` requires tokens for `ray job submit` (docs/services.md).
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    cpus = os.cpu_count() or 1
    ray.init(address="local", num_cpus=min(max_cpus, cpus) if max_cpus else None, include_dashboard=False,
             object_store_memory=object_store_memory, log_to_driver=True)
