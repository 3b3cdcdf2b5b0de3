"""Helpers for tests that run the infra/local scripts (importable: tests/ is on pythonpath)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from inrzoo.services.processes import free_port, is_alive

INFRA = Path(__file__).resolve().parents[1] / "infra" / "local"

# service -> (binary override variable, port variable)
SERVICES = {
    "objectstore": ("INRZOO_WEED_BIN", "INRZOO_S3_PORT"),
    "ray-head": ("INRZOO_RAY_BIN", "INRZOO_RAY_DASHBOARD_PORT"),
    "mlflow-server": ("INRZOO_MLFLOW_BIN", "INRZOO_MLFLOW_PORT"),
}


def script_env(state_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a script run: this venv, its own state dir, free ports."""
    env = {**os.environ, "VIRTUAL_ENV": sys.prefix, "INRZOO_STATE_DIR": str(state_dir)}
    for var in ("INRZOO_S3_PORT", "INRZOO_RAY_PORT", "INRZOO_RAY_DASHBOARD_PORT", "INRZOO_MLFLOW_PORT"):
        env[var] = str(free_port())
    # MLflow would otherwise need a running object store before it starts at all.
    env["INRZOO_MLFLOW_ARTIFACTS_DESTINATION"] = str(state_dir / "artifacts")
    env.update(extra)
    return env


def run(name: str, *args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    """Run infra/local/<name> ARGS."""
    return subprocess.run([str(INFRA / name), *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def fake_binary(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "fake-bin"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def assert_names_service_port_and_log(result, name: str, port: str, state_dir: Path) -> None:
    assert result.returncode == 1, result.stderr
    assert name in result.stderr
    assert f"port {port}" in result.stderr
    assert str(state_dir / name / f"{name}.log") in result.stderr
    assert not (state_dir / name / "process.json").exists()


def wait_dead(pid: int, seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while is_alive(pid) and time.monotonic() < end:
        time.sleep(0.05)
    return not is_alive(pid)


def pids_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains `text` (e.g. a state directory)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if text in cmdline and is_alive(int(entry.name)):
            pids.append(int(entry.name))
    return pids
