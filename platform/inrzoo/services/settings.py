"""Settings of the local services, read from INRZOO_* environment variables.

Every service binds 127.0.0.1 and keeps its state and logs under one state directory
(INRZOO_STATE_DIR, default `.inrzoo/` in the current directory; the infra/local wrappers
default it to the checkout's `.inrzoo/`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"

# Unix socket paths are limited to 107 bytes; Ray appends ~65 characters to its temp dir.
MAX_RUNTIME_DIR_LEN = 40


class ServiceError(RuntimeError):
    """A service could not be started, stopped or queried; the message names the service,
    its port and its log file."""


def _env_number(name: str, default, cast=int):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return cast(raw)
    except ValueError:
        raise ServiceError(f"environment variable {name}={raw!r} is not a valid {cast.__name__}") from None


@dataclass
class ServiceSettings:
    """Ports, limits and paths of the three local services (defaults from the issue)."""

    state_dir: Path = field(default_factory=lambda: Path(".inrzoo").absolute())
    s3_port: int = 8333
    s3_bucket: str = "inrzoo"
    ray_port: int = 6379
    ray_dashboard_port: int = 8265
    ray_num_cpus: int = 2
    ray_object_store_bytes: int = 512 * 1024**2
    ray_auth_mode: str = "disabled"  # "disabled" or "token"
    mlflow_port: int = 5000
    mlflow_backend_store_uri: str = ""  # empty: sqlite:///<state>/mlflow/mlflow.db
    mlflow_artifacts_destination: str = ""  # empty: s3://<bucket>/mlflow
    start_timeout_s: float = 0.0  # 0: each service's own default
    stop_timeout_s: float = 0.0  # 0: each service's own default

    @classmethod
    def from_env(cls) -> "ServiceSettings":
        state = os.environ.get("INRZOO_STATE_DIR") or ".inrzoo"
        mode = os.environ.get("INRZOO_RAY_AUTH_MODE", "disabled").strip().lower()
        if mode not in ("disabled", "token"):
            raise ServiceError(f"INRZOO_RAY_AUTH_MODE={mode!r}: expected 'disabled' or 'token'")
        return cls(
            state_dir=Path(state).expanduser().absolute(),
            s3_port=_env_number("INRZOO_S3_PORT", 8333),
            s3_bucket=os.environ.get("INRZOO_S3_BUCKET") or "inrzoo",
            ray_port=_env_number("INRZOO_RAY_PORT", 6379),
            ray_dashboard_port=_env_number("INRZOO_RAY_DASHBOARD_PORT", 8265),
            ray_num_cpus=_env_number("INRZOO_RAY_NUM_CPUS", 2),
            ray_object_store_bytes=_env_number("INRZOO_RAY_OBJECT_STORE_BYTES", 512 * 1024**2),
            ray_auth_mode=mode,
            mlflow_port=_env_number("INRZOO_MLFLOW_PORT", 5000),
            mlflow_backend_store_uri=os.environ.get("INRZOO_MLFLOW_BACKEND_STORE_URI", ""),
            mlflow_artifacts_destination=os.environ.get("INRZOO_MLFLOW_ARTIFACTS_DESTINATION", ""),
            start_timeout_s=_env_number("INRZOO_START_TIMEOUT", 0.0, float),
            stop_timeout_s=_env_number("INRZOO_STOP_TIMEOUT", 0.0, float),
        )

    def service_dir(self, name: str) -> Path:
        return self.state_dir / name

    def runtime_dir(self, name: str) -> Path:
        """A directory for unix sockets: inside the state dir when its path is short, else
        a /tmp directory named after a hash of the state dir (still unique to it)."""
        inside = self.state_dir / name / "run"
        if len(str(inside)) <= MAX_RUNTIME_DIR_LEN:
            return inside
        digest = hashlib.sha1(str(self.state_dir).encode()).hexdigest()[:10]
        return Path("/tmp") / f"inrzoo-{digest}" / name


def find_executable(name: str, env_var: str) -> str:
    """The executable `name`: $env_var if set, else next to the running interpreter (the
    active venv's bin/, not resolved through symlinks), else on PATH."""
    override = os.environ.get(env_var)
    if override:
        return override
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    return found or name


def venv_bin_dir() -> str:
    """The bin/ directory of the running interpreter, put first on services' PATH so that
    `python` inside a Ray job is the venv's."""
    return str(Path(sys.executable).parent)
