"""The client environment of the running services, as `<state_dir>/env.sh` (sourced by users,
read back by the test fixtures)."""

from __future__ import annotations

import shlex
from pathlib import Path

from inrzoo.services.service import Service

ENV_FILE = "env.sh"


def client_environment(services: list[Service]) -> dict[str, str]:
    """Variables a client exports to use every service that is running now."""
    env: dict[str, str] = {}
    for service in services:
        record = service.running_record()
        if record is not None:
            env.update(service.client_env(record))
    return env


def format_exports(env: dict[str, str]) -> str:
    return "".join(f"export {key}={shlex.quote(value)}\n" for key, value in env.items())


def write_env_file(state_dir: Path, env: dict[str, str]) -> Path:
    """Rewrite the env file (mode 0600: it holds the S3 secret)."""
    path = state_dir / ENV_FILE
    header = f"# inrzoo local services in {state_dir}; use: source {path}\n"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(header + format_exports(env))
    tmp.chmod(0o600)
    tmp.replace(path)
    return path


def read_env_file(path: Path) -> dict[str, str]:
    """Parse the `export KEY=VALUE` lines written by write_env_file."""
    env: dict[str, str] = {}
    for line in Path(path).read_text().splitlines():
        if not line.startswith("export "):
            continue
        key, _, value = line[len("export ") :].partition("=")
        parts = shlex.split(value)
        env[key] = parts[0] if parts else ""
    return env
