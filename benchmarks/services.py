"""Start time, idle memory and stop time of each local service, measured through the same
infra/local scripts users run, in a fresh state directory on free ports.

    .venv/bin/python benchmarks/services.py [--idle 10] [--json out.json]

Start time: wall clock of `infra/local/<service> start` (interpreter start included) and the
spawn-to-ready time the script records. Idle memory: RSS and PSS summed over the service's
process tree after --idle seconds without requests (RSS counts shared pages once per process,
PSS splits them, so PSS is the fairer total for Ray's many Python processes).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from inrzoo.services import SERVICES
from inrzoo.services.processes import free_port, process_tree, tree_memory_bytes

INFRA = Path(__file__).resolve().parents[1] / "infra" / "local"
MIB = 1024**2


def script(name: str, action: str, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    began = time.monotonic()
    result = subprocess.run([str(INFRA / name), action], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{name} {action} failed:\n{result.stderr}")
    return time.monotonic() - began, result


def measure(idle_s: float) -> list[dict]:
    root = Path(tempfile.mkdtemp(prefix="inrzoo-b", dir="/tmp"))
    env = {**os.environ, "VIRTUAL_ENV": sys.prefix, "INRZOO_STATE_DIR": str(root / "state")}
    for var in ("INRZOO_S3_PORT", "INRZOO_RAY_PORT", "INRZOO_RAY_DASHBOARD_PORT", "INRZOO_MLFLOW_PORT"):
        env[var] = str(free_port())
    rows: list[dict] = []
    started: list[str] = []
    try:
        for name in SERVICES:  # in order: MLflow needs the object store
            wall, _ = script(name, "start", env)
            started.append(name)
            record = json.loads((root / "state" / name / "process.json").read_text())
            rows.append({"service": name, "start_wall_s": round(wall, 2),
                         "spawn_to_ready_s": record["ready_s"], "pid": record["pid"]})
        time.sleep(idle_s)
        for row in rows:
            row["processes"] = len(process_tree(row["pid"]))
            memory = tree_memory_bytes(row["pid"])
            row["idle_rss_mib"] = round(memory["rss"] / MIB, 1)
            row["idle_pss_mib"] = round(memory["pss"] / MIB, 1)
        for row in reversed(rows):
            row["stop_wall_s"] = round(script(row["service"], "stop", env)[0], 2)
            started.remove(row["service"])
    finally:
        for name in reversed(started):
            subprocess.run([str(INFRA / name), "stop"], env=env, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=float, default=10.0, help="seconds idle before measuring memory")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    rows = measure(args.idle)
    print(f"cpus={os.cpu_count()} load_avg_1min_at_start={load:.1f} idle={args.idle:.0f}s")
    header = ("service", "start_wall_s", "spawn_to_ready_s", "stop_wall_s", "processes",
              "idle_rss_mib", "idle_pss_mib")
    print(" ".join(f"{h:>16}" for h in header))
    for row in rows:
        print(" ".join(f"{row[h]!s:>16}" for h in header))
    total_pss = sum(r["idle_pss_mib"] for r in rows)
    total_start = sum(r["start_wall_s"] for r in rows)
    print(f"all three: start {total_start:.1f} s in sequence, idle PSS {total_pss:.0f} MiB")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
