"""The fuzz test's reader process: applies each mutation it is sent to a fresh copy of a small
dataset and reads the result, under a memory cap and a time cap, and answers with the outcome.

    python fuzz_worker.py BASE_DATASET SCRATCH_DIR        (cases as JSON lines on stdin)

A case is a list of mutations (see `apply`). The answer is {"outcome": "read" | "refused" |
"crash", ...}: "read" when the dataset opened and every record was read (then `wrong` lists the
rows whose parameters differ from the unmutated dataset's, and `verify_ok` what verify said),
"refused" for a StoreError (the documented error), "crash" for anything else (a defect).
"""

from __future__ import annotations

import json
import resource
import shutil
import signal
import sys
import time
from pathlib import Path

import numpy as np

CASE_SECONDS = 20  # chosen: far above the slowest legitimate read of this dataset (about 1 s)
HEADROOM = 1 << 30  # address space granted above what the process holds after its imports


class CaseTimeout(BaseException):
    pass


def cap_memory() -> int:
    """RLIMIT_AS = current virtual size + 1 GiB (the interpreter, torch and zarr already map
    about 0.65 GB of address space before the first case)."""
    size = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (size + HEADROOM, size + HEADROOM))
    return size + HEADROOM


def apply(root: Path, mutation: dict) -> None:
    """One mutation: of a zarr.json ("json": set or delete the value at a path) or of a chunk
    file ("chunk": flip bytes, truncate, garbage, delete, copy another chunk over it, or a
    header claiming a huge decoded size sealed with a valid checksum)."""
    from inrzoo.store.tamper import rewrite_chunk, zstd_bomb_header

    target = root / mutation["file"]
    if mutation["kind"] == "json":
        meta = json.loads(target.read_text())
        *parents, last = mutation["path"]
        node = meta
        for key in parents:
            node = node[key]
        if mutation["action"] == "delete":
            del node[last]
        else:
            node[last] = mutation["value"]
        target.write_text(json.dumps(meta))
        return
    action = mutation["action"]
    data = target.read_bytes()
    if action == "flip":
        raw = bytearray(data)
        for position, mask in zip(mutation["positions"], mutation["masks"]):
            raw[position % len(raw)] ^= mask
        target.write_bytes(bytes(raw))
    elif action == "truncate":
        target.write_bytes(data[: mutation["size"] % max(len(data), 1)])
    elif action == "garbage":
        target.write_bytes(np.random.default_rng(mutation["seed"]).bytes(mutation["size"]))
    elif action == "delete":
        target.unlink()
    elif action == "copy":
        target.write_bytes((root / mutation["source"]).read_bytes())
    elif action == "zstd_bomb":
        rewrite_chunk(target, lambda inner: zstd_bomb_header(mutation["claim"]))
    elif action == "blosc_bomb":
        rewrite_chunk(target, lambda inner: inner[:4] + (mutation["claim"] % 2**32).to_bytes(4, "little") + inner[8:])
    else:
        raise ValueError(f"unknown mutation {action!r}")


def sealed(chunk: Path) -> bool:
    """Does the chunk (if it is there) end with the crc32c of the rest (format 1.1)?"""
    import google_crc32c

    if not chunk.exists():
        return True
    data = chunk.read_bytes()
    return len(data) >= 4 and np.uint32(google_crc32c.value(data[:-4])).tobytes() == data[-4:]


def read_everything(path: Path) -> dict[int, dict[str, np.ndarray]]:
    import inrzoo

    ds = inrzoo.open_weights(str(path), status=None, torch_dtype=None)
    return {rec.row: {k: v.float().numpy() for k, v in rec.params.items()} for rec in ds[:] if rec.params is not None}


def run_case(base: Path, scratch: Path, mutations: list[dict], original: dict) -> dict:
    from inrzoo.store import StoreError, verify

    target = scratch / "case.zarr"
    if not target.exists():
        shutil.copytree(base, target)
    for mutation in mutations:
        try:
            apply(target, mutation)
        except (FileNotFoundError, KeyError, IndexError, TypeError):
            pass  # an earlier mutation of the case removed what this one targets
    corrupt = [m["file"] for m in mutations if m["kind"] == "chunk" and not sealed(target / m["file"])]
    signal.alarm(CASE_SECONDS)
    try:
        params = read_everything(target)
        report = verify(str(target))
        wrong = [row for row, values in params.items() if row not in original or any(
            not np.array_equal(values[k], original[row].get(k)) for k in values) or set(values) != set(original[row])]
        return {"outcome": "read", "wrong": wrong, "verify_ok": report.ok, "corrupt": sorted(set(corrupt))}
    except StoreError as exc:
        return {"outcome": "refused", "error": str(exc)[:300]}
    except CaseTimeout:
        return {"outcome": "crash", "error": f"no answer within {CASE_SECONDS} s"}
    except BaseException as exc:  # noqa: BLE001 - anything else is a finding
        return {"outcome": "crash", "error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    finally:
        signal.alarm(0)
        for name in {m["file"] for m in mutations}:  # back to the base: only what changed is copied
            shutil.copyfile(base / name, target / name)


def main() -> None:
    base, scratch = Path(sys.argv[1]), Path(sys.argv[2])
    original = read_everything(base)

    def on_alarm(signum, frame):
        raise CaseTimeout()

    signal.signal(signal.SIGALRM, on_alarm)
    limit = cap_memory()
    print(json.dumps({"ready": True, "address_space_limit": limit}), flush=True)
    for line in sys.stdin:
        started = time.perf_counter()
        answer = run_case(base, scratch, json.loads(line), original)
        answer["seconds"] = time.perf_counter() - started
        answer["max_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
