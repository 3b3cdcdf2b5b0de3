"""infra/local scripts on bad input: a port already taken, a missing binary, a service that
dies or hangs while starting, a state directory that is not writable. Each must exit
non-zero with a message naming the service, the port and the log file, and leave nothing
running. Fake binaries stand in for the real ones so these tests take a second each."""

from __future__ import annotations

import os
import socket

import pytest
from servicescripts import (
    SERVICES, assert_names_service_port_and_log, fake_binary, run, script_env, wait_dead,
)

from inrzoo.services import ServiceSettings


@pytest.mark.parametrize("name", SERVICES)
def test_port_already_taken(name, tmp_path):
    env = script_env(tmp_path / "state")
    port = env[SERVICES[name][1]]
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", int(port)))
        holder.listen()
        result = run(name, "start", env=env)
    assert_names_service_port_and_log(result, name, port, tmp_path / "state")
    assert "already in use" in result.stderr


@pytest.mark.parametrize("name", SERVICES)
def test_missing_binary(name, tmp_path):
    binary_var, port_var = SERVICES[name]
    env = script_env(tmp_path / "state", **{binary_var: str(tmp_path / "no-such-binary")})
    result = run(name, "start", env=env)
    assert_names_service_port_and_log(result, name, env[port_var], tmp_path / "state")
    assert "no-such-binary" in result.stderr and "not found" in result.stderr


@pytest.mark.parametrize("name", SERVICES)
def test_service_dying_while_starting_leaves_nothing_running(name, tmp_path):
    binary_var, port_var = SERVICES[name]
    # The fake forks a helper that would outlive it, then fails.
    fake = fake_binary(tmp_path, f"sleep 300 &\necho $! > {tmp_path}/helper.pid\n"
                                 "echo 'fatal: cannot bind' >&2\nsleep 0.5\nexit 3\n")
    env = script_env(tmp_path / "state", **{binary_var: str(fake)})
    result = run(name, "start", env=env)
    assert_names_service_port_and_log(result, name, env[port_var], tmp_path / "state")
    assert "exited with code 3 while starting" in result.stderr
    assert "fatal: cannot bind" in result.stderr  # the log's tail is quoted
    assert wait_dead(int((tmp_path / "helper.pid").read_text()))
    # The state dir path is long, so sockets went to /tmp/inrzoo-<hash>: removed again.
    assert not ServiceSettings(state_dir=tmp_path / "state").runtime_dir(name).exists()


def test_service_that_never_answers_times_out_and_is_stopped(tmp_path):
    fake = fake_binary(tmp_path, f"echo $$ > {tmp_path}/fake.pid\nexec sleep 300\n")
    env = script_env(tmp_path / "state", INRZOO_WEED_BIN=str(fake), INRZOO_START_TIMEOUT="1")
    result = run("objectstore", "start", env=env)
    assert_names_service_port_and_log(result, "objectstore", env["INRZOO_S3_PORT"], tmp_path / "state")
    assert "not ready after 1 s" in result.stderr
    assert wait_dead(int((tmp_path / "fake.pid").read_text()))


@pytest.mark.parametrize("name", SERVICES)
def test_state_directory_not_writable(name, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = script_env(blocker / "state")
    result = run(name, "start", env=env)
    assert result.returncode == 1
    assert name in result.stderr and f"port {env[SERVICES[name][1]]}" in result.stderr
    assert "not writable" in result.stderr and str(blocker / "state" / name) in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through directory permissions")
def test_read_only_state_directory(tmp_path):
    state = tmp_path / "state"
    state.mkdir(mode=0o500)
    result = run("objectstore", "start", env=script_env(state))
    assert result.returncode == 1 and "not writable" in result.stderr


def test_unsupported_backend_store_uri_fails_before_starting(tmp_path):
    env = script_env(tmp_path / "state", INRZOO_MLFLOW_BACKEND_STORE_URI="file:///tmp/mlruns")
    result = run("mlflow-server", "start", env=env)
    assert_names_service_port_and_log(result, "mlflow-server", env["INRZOO_MLFLOW_PORT"], tmp_path / "state")
    assert "not a database URI" in result.stderr


@pytest.mark.parametrize("name", SERVICES)
def test_stop_and_status_when_nothing_runs(name, tmp_path):
    env = script_env(tmp_path / "state")
    assert run(name, "status", env=env).returncode == 3
    stopped = run(name, "stop", env=env)
    assert stopped.returncode == 0 and "not running" in stopped.stderr
