"""Publishing a weight dataset as numbered versions, and reading one back through a verified cache.

    publish("out/ds.zarr", "s3://bucket/inrs/thingi")      # -> .../thingi/v1/manifest.json
    ds = open_weights("https://host/inrs/thingi/v1/manifest.json", split="train")

A published version is a folder DEST/v<N>/ holding a copy of every file of the dataset, the card
(README.md) with its version stamped in the YAML header, and manifest.json: the version, the
dataset's content digest, the sources' licences and the sha256 and size of every file.
DEST/versions.json lists the versions. Any fsspec URI that can be written is a destination (a
bucket, or a folder a web server shows as an HTTP folder); readers may use http(s).

Chosen: files are listed in the manifest rather than discovered, since HTTP folders cannot be
listed; a reader downloads every file into the cache (INRZOO_CACHE_DIR, default
~/.cache/inrzoo), checks each checksum before the copy counts, and opens the copy locally. A
cached version is trusted on later opens when its marker matches the manifest's digest and
every file has its recorded size (rehashing gigabytes on each open would be slow).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import posixpath
import re
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import fsspec

log = logging.getLogger(__name__)

MANIFEST, VERSIONS, CARD = "manifest.json", "versions.json", "README.md"
PUBLISHED_FORMAT = "inrzoo-published"
VERIFIED_MARKER = ".inrzoo-verified"


class PublishError(ValueError):
    """A destination or a published copy that cannot be used (names the URI and the reason)."""


def _join(root: str, name: str) -> str:
    return f"{root.rstrip('/')}/{name}"


def _read_json(fs, path: str, uri: str) -> Any:
    try:
        with fs.open(path, "rb") as handle:
            return json.loads(handle.read())
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise PublishError(f"{uri}: cannot read {posixpath.basename(path)} ({exc})") from exc


def _licences(dataset) -> dict[str, Any]:
    """Rows per licence (the rows' meta) and the collection's own licences (source -> licence)."""
    from inrzoo.store.card import row_licence

    counted = Counter(row_licence(m) for m in dataset.columns["meta"])
    counted.pop(None, None)
    collection = dataset.attrs.get("collection") or {}
    return {"rows": {str(k): int(v) for k, v in counted.items()},
            "collection": {str(k): str(v) for k, v in (collection.get("licences") or {}).items()}}


def _stamped_card(text: str, version: int, manifest_uri: str) -> str:
    """The card with `version:` in its YAML header and a line naming the published version."""
    note = f"Published version {version}: every file's sha256 is in [{MANIFEST}]({MANIFEST})."
    if text.startswith("---\n"):
        end = text.index("\n---", 4)
        head, body = text[4:end], text[end + 4:]
        head = re.sub(r"(?m)^version: .*\n?", "", head).rstrip("\n")
        return f"---\n{head}\nversion: {version}\n---{body.rstrip()}\n\n{note}\n"
    return f"{text.rstrip()}\n\n{note}\n"


def publish(dataset_uri: str, dest: str, *, storage_options: dict | None = None,
            dest_options: dict | None = None) -> dict[str, Any]:
    """Copy the dataset at `dataset_uri` to DEST/v<N>/ (N = the next version) with its manifest;
    returns the manifest (plus `manifest_uri`). A dataset whose digest equals the latest version's
    is not published again: that version's manifest comes back."""
    from inrzoo.store.reader import open_weights

    dataset = open_weights(dataset_uri, storage_options, status=None)
    src_fs, src_root = dataset.location.fs, dataset.location.path
    dst_fs, dst_root = fsspec.core.url_to_fs(dest, **(dest_options or {}))
    try:
        versions = _read_json(dst_fs, _join(dst_root, VERSIONS), dest)
    except FileNotFoundError:
        versions = {"format": PUBLISHED_FORMAT, "versions": []}
    digest = dataset.digest()
    if versions["versions"] and versions["versions"][-1]["digest"] == digest:
        latest = versions["versions"][-1]
        log.info("%s: unchanged since version %s of %s; not published again", dataset_uri, latest["version"], dest)
        manifest = _read_json(dst_fs, _join(dst_root, latest["manifest"]), dest)
        return {**manifest, "manifest_uri": _join(dest, latest["manifest"])}
    number = 1 + max((v["version"] for v in versions["versions"]), default=0)
    folder = f"v{number}"
    manifest_uri = _join(dest, f"{folder}/{MANIFEST}")
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(src_fs.find(src_root)):
        name = posixpath.relpath(path, src_root)
        with src_fs.open(path, "rb") as handle:
            data = handle.read()
        if name == CARD:
            data = _stamped_card(data.decode("utf-8"), number, manifest_uri).encode("utf-8")
        dst_fs.makedirs(posixpath.dirname(_join(dst_root, f"{folder}/{name}")), exist_ok=True)
        with dst_fs.open(_join(dst_root, f"{folder}/{name}"), "wb") as handle:
            handle.write(data)
        files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    if "zarr.json" not in files:
        raise PublishError(f"{dataset_uri}: no zarr.json at the dataset root; nothing to publish")
    title = (dataset.attrs.get("collection") or {}).get("title") or (dataset.attrs.get("collection") or {}).get("name")
    manifest = {"format": PUBLISHED_FORMAT, "version": number, "name": posixpath.basename(dst_root.rstrip("/")),
                "title": title, "digest": digest, "source": dataset_uri, "rows": int(dataset.num_rows),
                "published_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "licences": _licences(dataset), "card": CARD if CARD in files else None, "files": files}
    with dst_fs.open(_join(dst_root, f"{folder}/{MANIFEST}"), "w") as handle:
        handle.write(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    versions["versions"].append({"version": number, "digest": digest, "manifest": f"{folder}/{MANIFEST}",
                                 "published_at": manifest["published_at"]})
    with dst_fs.open(_join(dst_root, VERSIONS), "w") as handle:
        handle.write(json.dumps(versions, indent=2) + "\n")
    log.info("published %s as version %d: %d files, %d bytes", dataset_uri, number, len(files),
             sum(f["bytes"] for f in files.values()))
    return {**manifest, "manifest_uri": manifest_uri}


def is_published(uri: str) -> bool:
    """A published dataset is addressed by its manifest (or by versions.json for the latest)."""
    return uri.rstrip("/").endswith((f"/{MANIFEST}", f"/{VERSIONS}")) or uri in (MANIFEST, VERSIONS)


def cache_root() -> Path:
    return Path(os.environ.get("INRZOO_CACHE_DIR") or Path.home() / ".cache" / "inrzoo")


def fetch_published(uri: str, storage_options: dict | None = None, cache: Path | None = None) -> Path:
    """The local, checksum-verified copy of the published version at `uri` (downloaded once)."""
    fs, path = fsspec.core.url_to_fs(uri, **(storage_options or {}))
    if path.rstrip("/").endswith(VERSIONS):
        versions = _read_json(fs, path, uri)
        if not versions.get("versions"):
            raise PublishError(f"{uri}: no published version")
        uri = _join(uri.rsplit("/", 1)[0], versions["versions"][-1]["manifest"])
        path = _join(path.rsplit("/", 1)[0], versions["versions"][-1]["manifest"])
    try:
        manifest = _read_json(fs, path, uri)
    except FileNotFoundError as exc:
        raise PublishError(f"{uri}: no such manifest") from exc
    if manifest.get("format") != PUBLISHED_FORMAT:
        raise PublishError(f"{uri}: not an inrzoo published manifest (format {manifest.get('format')!r})")
    base = path.rsplit("/", 1)[0]
    safe_name = re.sub(r"[^A-Za-z0-9._-]+", "_", str(manifest.get("name") or "dataset"))
    local = (cache or cache_root()) / "published" / f"{safe_name}-v{manifest['version']}-{manifest['digest'][:16]}"
    marker = local / VERIFIED_MARKER
    files = manifest["files"]
    if marker.exists() and marker.read_text() == manifest["digest"] and all(
            (local / name).is_file() and (local / name).stat().st_size == info["bytes"] for name, info in files.items()):
        return local
    local.mkdir(parents=True, exist_ok=True)
    for name, info in files.items():
        target = local / name
        if target.is_file() and target.stat().st_size == info["bytes"] \
                and hashlib.sha256(target.read_bytes()).hexdigest() == info["sha256"]:
            continue  # kept from an interrupted download, and intact
        with fs.open(_join(base, name), "rb") as handle:
            data = handle.read()
        got = hashlib.sha256(data).hexdigest()
        if got != info["sha256"]:
            raise PublishError(f"{uri}: {name} has sha256 {got[:16]}..., the manifest says {info['sha256'][:16]}...; "
                               "the published copy is damaged or was changed after publishing")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(target)
    marker.write_text(manifest["digest"])
    log.info("%s: version %s verified into %s (%d files)", uri, manifest["version"], local, len(files))
    return local
