"""The pieces under the scripts: process trees, ports, the env file, connections, settings."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from inrzoo.services import (
    MlflowConnection, ObjectStoreConnection, RayHeadConnection, ServiceError, ServiceSettings,
)
from inrzoo.services.envfile import read_env_file, write_env_file
from inrzoo.services.processes import (
    free_port, is_alive, port_in_use, process_tree, start_ticks, terminate_tree, tree_memory_bytes,
)


def test_terminate_tree_stops_grandchildren_that_ignore_sigterm(tmp_path):
    # A session leader whose child ignores SIGTERM and whose grandchild left the group.
    script = (
        f"(trap '' TERM; sleep 300) & echo $! > {tmp_path}/child\n"
        f"setsid sleep 300 & echo $! > {tmp_path}/grandchild\n"
        "wait\n"
    )
    root = subprocess.Popen(["sh", "-c", script], start_new_session=True)
    deadline = time.monotonic() + 5
    while not (tmp_path / "grandchild").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)
    child = int((tmp_path / "child").read_text())
    grandchild = int((tmp_path / "grandchild").read_text())
    assert {root.pid, child, grandchild} <= process_tree(root.pid)
    assert tree_memory_bytes(root.pid)["pss"] > 0
    terminate_tree(root.pid, grace_s=1.0)
    root.wait(timeout=5)
    assert not is_alive(child) and not is_alive(grandchild)


def test_terminate_tree_signals_everyone_at_once_when_the_root_need_not_go_first(tmp_path):
    # A root that ignores SIGTERM (its child started before the trap, so it does not): signalled
    # together, the child ends at once, not after half the grace period (the Ray head's stop).
    script = f"sleep 300 & echo $! > {tmp_path}/child; trap '' TERM; wait"
    root = subprocess.Popen(["sh", "-c", script], start_new_session=True)
    deadline = time.monotonic() + 5
    while not (tmp_path / "child").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)
    child = int((tmp_path / "child").read_text())
    stopping = threading.Thread(target=terminate_tree, args=(root.pid,), kwargs={"grace_s": 10.0, "root_first": False})
    stopping.start()
    deadline = time.monotonic() + 2.5  # half the grace period is 5 s
    while is_alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not is_alive(child)
    stopping.join()
    root.wait(timeout=5)


def test_is_alive_detects_pid_reuse_by_start_time():
    proc = subprocess.Popen(["sleep", "30"])
    try:
        ticks = start_ticks(proc.pid)
        assert is_alive(proc.pid, ticks)
        assert not is_alive(proc.pid, ticks + 1)  # same pid, another process
    finally:
        proc.kill()
        proc.wait()
    assert not is_alive(proc.pid)


def test_port_in_use_sees_a_listener_only():
    port = free_port()
    assert not port_in_use(port)
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", port))
        holder.listen()
        assert port_in_use(port)


def test_env_file_round_trip_quotes_values(tmp_path):
    env = {"A": "plain", "B": "with space and 'quote'", "C": ""}
    path = write_env_file(tmp_path, env)
    assert read_env_file(path) == env
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    sourced = subprocess.run(["bash", "-c", f"source {path}; printf %s \"$B\""],
                             capture_output=True, text=True)
    assert sourced.stdout == env["B"]


def test_connections_from_env():
    env = {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s", "INRZOO_S3_BUCKET": "b", "RAY_ADDRESS": "http://127.0.0.1:2",
        "INRZOO_RAY_GCS_ADDRESS": "127.0.0.1:3", "RAY_AUTH_MODE": "disabled",
        "MLFLOW_TRACKING_URI": "http://127.0.0.1:4", "UNRELATED": "x",
    }
    store = ObjectStoreConnection.from_env(env)
    assert store.storage_options["endpoint_url"] == "http://127.0.0.1:1"
    assert store.uri("a/", "b.zarr") == "s3://b/a/b.zarr"
    assert "UNRELATED" not in store.env
    assert RayHeadConnection.from_env(env).dashboard_url == "http://127.0.0.1:2"
    assert MlflowConnection.from_env(env).tracking_uri == "http://127.0.0.1:4"
    with pytest.raises(ServiceError, match="MLFLOW_TRACKING_URI"):
        MlflowConnection.from_env({})


def test_settings_from_env_reject_bad_values(monkeypatch):
    monkeypatch.setenv("INRZOO_S3_PORT", "eighty")
    with pytest.raises(ServiceError, match="INRZOO_S3_PORT"):
        ServiceSettings.from_env()
    monkeypatch.setenv("INRZOO_S3_PORT", "9000")
    monkeypatch.setenv("INRZOO_RAY_AUTH_MODE", "password")
    with pytest.raises(ServiceError, match="INRZOO_RAY_AUTH_MODE"):
        ServiceSettings.from_env()


def test_runtime_dir_stays_short_for_long_state_dirs(tmp_path):
    deep = ServiceSettings(state_dir=tmp_path / ("x" * 80))
    assert len(str(deep.runtime_dir("ray-head"))) <= 40
    assert deep.runtime_dir("ray-head") != ServiceSettings(state_dir=tmp_path).runtime_dir("ray-head")
    short = ServiceSettings(state_dir=type(tmp_path)("/tmp/s"))
    assert short.runtime_dir("ray-head") == short.state_dir / "ray-head" / "run"
    assert os.path.isabs(deep.runtime_dir("objectstore"))


def test_free_port_avoids_ray_worker_ports_and_the_ephemeral_range():
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = {free_port() for _ in range(20)}
    assert all(20000 <= port < low for port in ports)
    assert len(ports) > 1


def test_ray_head_waits_for_its_dashboard_as_long_as_for_itself(tmp_path):
    from inrzoo.services.rayhead import RayHead

    default = RayHead(ServiceSettings(state_dir=tmp_path))
    assert default.extra_env()["RAY_DASHBOARD_STARTUP_TIMEOUT_S"] == "180"  # Ray's own default: 60 s
    patient = RayHead(ServiceSettings(state_dir=tmp_path, start_timeout_s=400.0))
    assert patient.extra_env()["RAY_DASHBOARD_STARTUP_TIMEOUT_S"] == "400"
