"""Process-level helpers: process trees from /proc, liveness that survives PID reuse, port
checks, and readiness probes over HTTP."""

from __future__ import annotations

import os
import random
import signal
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    return raw[raw.rindex(")") + 2 :].split()


def start_ticks(pid: int) -> int | None:
    """Start time of `pid` in clock ticks since boot; with the pid it identifies a process
    even after the pid is reused."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def is_alive(pid: int, ticks: int | None = None) -> bool:
    """True while `pid` runs (zombies count as gone) and, given `ticks`, is still the same
    process that was recorded."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] in ("Z", "X"):
        return False
    return ticks is None or int(fields[19]) == ticks


def process_tree(root: int) -> set[int]:
    """`root`, its descendants and the members of its process group (a service is started
    as a session leader, so its group id is its pid)."""
    parents: dict[int, int] = {}
    group: set[int] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields is None:
            continue
        parents[int(entry)] = int(fields[1])
        if int(fields[2]) == root:
            group.add(int(entry))
    tree = {root} | group
    grew = True
    while grew:
        children = {pid for pid, ppid in parents.items() if ppid in tree and pid not in tree}
        tree |= children
        grew = bool(children)
    return tree


def alive_members(pids: set[int]) -> set[int]:
    return {pid for pid in pids if is_alive(pid)}


def signal_all(pids: set[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def terminate_tree(root: int, grace_s: float, root_first: bool = True) -> set[int]:
    """Stop `root` and everything it started: SIGTERM to the root first (so it can shut its
    children down in order), SIGTERM to the rest after half the grace period (at once when not
    `root_first`), SIGKILL at the end. Returns the pids that were still alive before SIGKILL
    (empty on a clean stop)."""
    tree = process_tree(root)
    signal_all({root} if root_first else tree | {root}, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    escalated = not root_first
    while time.monotonic() < deadline:
        # Children forked while stopping belong to the tree too.
        tree |= process_tree(root) if is_alive(root) else set()
        left = alive_members(tree)
        if not left:
            return set()
        if not escalated and time.monotonic() > deadline - grace_s / 2:
            signal_all(left, signal.SIGTERM)
            escalated = True
        time.sleep(0.2)
    left = alive_members(tree)
    signal_all(left, signal.SIGKILL)
    end = time.monotonic() + 5
    while alive_members(left) and time.monotonic() < end:
        time.sleep(0.1)
    return left


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when a listening socket holds `port` on `host` or on all interfaces."""
    for address in (host, "0.0.0.0"):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            # SO_REUSEADDR ignores TIME_WAIT leftovers but not a live listener.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((address, port))
            except OSError:
                return True
    return False


# Ray gives its workers ports 10002-19999 by default; chosen ports stay above them.
_FIRST_CHOSEN_PORT = 20000


def _ephemeral_port_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port(host: str = "127.0.0.1") -> int:
    """A free port below the kernel's ephemeral range.

    A port from bind(0) lies in the ephemeral range, where any outgoing connection opened
    between choosing the port and the service binding it can take it (seen in CI: a Ray
    head's GCS port lost that race). Ports below the range are only taken by listeners.
    """
    low, _ = _ephemeral_port_range()
    if low - _FIRST_CHOSEN_PORT < 1000:  # unusual kernel settings: fall back to the kernel
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            return sock.getsockname()[1]
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(_FIRST_CHOSEN_PORT, low)
        if not port_in_use(port, host):
            return port
    raise OSError(f"no free port found in {_FIRST_CHOSEN_PORT}-{low - 1} on {host}")


def http_status(url: str, headers: dict[str, str] | None = None, timeout: float = 3.0) -> int:
    """HTTP status of a GET on `url`; 0 when nothing answers."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return 0


def tree_memory_bytes(root: int) -> dict[str, int]:
    """Resident memory of `root` and all its descendants: "rss" counts shared pages once
    per process, "pss" splits them between the processes sharing them."""
    totals = {"rss": 0, "pss": 0}
    for pid in process_tree(root):
        try:
            lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            key = line.split(":", 1)[0].lower()
            if key in totals:
                totals[key] += int(line.split()[1]) * 1024
    return totals
