"""Session fixtures for the local services and an in-process Ray.

`object_store`, `ray_head` and `mlflow_server` start their service on first use through the
same scripts users run (infra/local/<service> start), in a state directory under a fresh
/tmp directory and on free ports, and stop at the end of the session only what they started.
With INRZOO_REUSE_SERVICES=1, services already running in $INRZOO_STATE_DIR (default: the
checkout's .inrzoo/, started with infra/local/up) are used instead and left running.
Set INRZOO_KEEP_TEST_STATE=1 to keep the test state directory (logs) after the session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from inrzoo.services import (
    SERVICES, MlflowConnection, ObjectStoreConnection, RayHeadConnection, ServiceError,
)
from inrzoo.services.envfile import read_env_file
from inrzoo.services.processes import free_port

REPO = Path(__file__).resolve().parents[1]
INFRA = REPO / "infra" / "local"


class ServiceStack:
    """Services of one test session: started lazily through infra/local scripts."""

    def __init__(self) -> None:
        # Short path: Ray's unix sockets live under it (107-byte limit).
        self.root = Path(tempfile.mkdtemp(prefix="inrzoo-t", dir="/tmp"))
        self.env = {
            **os.environ,
            "VIRTUAL_ENV": sys.prefix,  # the scripts run this interpreter's venv
            "INRZOO_STATE_DIR": str(self.root / "state"),
            "INRZOO_S3_PORT": str(free_port()),
            "INRZOO_RAY_PORT": str(free_port()),
            "INRZOO_RAY_DASHBOARD_PORT": str(free_port()),
            "INRZOO_MLFLOW_PORT": str(free_port()),
        }
        self.started: list[str] = []
        self.reuse_env = self._reuse_environment()
        self.watchdog: subprocess.Popen | None = None

    def _start_watchdog(self) -> None:
        """Stops this session's services if pytest dies without its teardown (SIGKILL, a
        hard timeout), so that a CI machine is not left with servers running."""
        watch = f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 2; done; exec {INFRA / 'down'}"
        self.watchdog = subprocess.Popen(["sh", "-c", watch], env=self.env, start_new_session=True,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    @staticmethod
    def _reuse_environment() -> dict[str, str] | None:
        if os.environ.get("INRZOO_REUSE_SERVICES") != "1":
            return None
        return {**os.environ, "INRZOO_STATE_DIR": os.environ.get(
            "INRZOO_STATE_DIR", str(REPO / ".inrzoo"))}

    def script(self, name: str, action: str, env: dict[str, str]) -> subprocess.CompletedProcess:
        return subprocess.run([str(INFRA / name), action], env=env, capture_output=True,
                              text=True, timeout=600)

    def ensure(self, name: str) -> dict[str, str]:
        """Client environment of service `name`, started now if needed."""
        if self.reuse_env is not None and self.script(name, "status", self.reuse_env).returncode == 0:
            return self._client_env(self.reuse_env)
        if self.watchdog is None:
            self._start_watchdog()
        result = self.script(name, "start", self.env)
        if result.returncode != 0:
            raise ServiceError(f"infra/local/{name} start failed:\n{result.stderr}")
        if "already running" not in result.stderr and name not in self.started:
            self.started.append(name)
        return self._client_env(self.env)

    @staticmethod
    def _client_env(env: dict[str, str]) -> dict[str, str]:
        """The env.sh that every start rewrites with the running services' variables."""
        return read_env_file(Path(env["INRZOO_STATE_DIR"]) / "env.sh")

    def close(self) -> None:
        if self.watchdog is not None:
            self.watchdog.kill()
            self.watchdog.wait()
        failures = []
        for name in reversed([n for n in SERVICES if n in self.started]):
            result = self.script(name, "stop", self.env)
            if result.returncode != 0:
                failures.append(result.stderr)
        if os.environ.get("INRZOO_KEEP_TEST_STATE") != "1" and not failures:
            shutil.rmtree(self.root, ignore_errors=True)
        if failures:
            raise ServiceError("stopping test services failed:\n" + "\n".join(failures))


@pytest.fixture(scope="session")
def service_stack():
    stack = ServiceStack()
    yield stack
    stack.close()


@pytest.fixture(scope="session")
def object_store(service_stack) -> ObjectStoreConnection:
    """The S3 object store: .endpoint_url, .key, .secret, .bucket, .storage_options, .env."""
    return ObjectStoreConnection.from_env(service_stack.ensure("objectstore"))


@pytest.fixture(scope="session")
def ray_head(service_stack) -> RayHeadConnection:
    """A Ray head taking `ray job submit`: .address (= .dashboard_url), .gcs_address, .env."""
    return RayHeadConnection.from_env(service_stack.ensure("ray-head"))


@pytest.fixture(scope="session")
def mlflow_server(service_stack, object_store) -> MlflowConnection:
    """An MLflow tracking server with artifacts in the object store: .tracking_uri, .env."""
    return MlflowConnection.from_env(service_stack.ensure("mlflow-server"))


@pytest.fixture(scope="session")
def local_ray():
    """An in-process Ray for the session (2 CPUs, no dashboard, small object store).

    address="local" always starts a new cluster: without it a stale ray_current_cluster
    file from an earlier `ray start` makes ray.init try to join a dead cluster.
    """
    import ray

    if ray.is_initialized():  # somebody else's cluster: use it, leave it
        yield ray
        return
    # Explicit auth mode: otherwise ray.init writes ~/.ray/auth_token and later heads
    # started without RAY_AUTH_MODE require tokens.
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    temp_dir = tempfile.mkdtemp(prefix="rt", dir="/tmp")
    ray.init(address="local", num_cpus=2, include_dashboard=False,
             object_store_memory=256 * 1024**2, _temp_dir=temp_dir)
    yield ray
    ray.shutdown()
    shutil.rmtree(temp_dir, ignore_errors=True)


# --- small INR sets (tests/inr2vec_helpers.py) for the zoo and CLI tests -----------------------

@pytest.fixture(name="tiny_config")
def tiny_config_fixture():
    from inr2vec_helpers import tiny_config

    return tiny_config


@pytest.fixture(name="siren_families")
def siren_families_fixture():
    from inr2vec_helpers import siren_families

    return siren_families


@pytest.fixture(name="sphere_inrs")
def sphere_inrs_fixture():
    from inr2vec_helpers import sphere_inrs

    return sphere_inrs
