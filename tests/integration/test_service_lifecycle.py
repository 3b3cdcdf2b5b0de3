"""The infra/local scripts with the real services: idempotent start and stop, status codes,
`up` printing the environment, `up` rolling back what it started when a later service fails,
and a real MLflow server that dies while starting."""

from __future__ import annotations

import json

import pytest
from servicescripts import (
    assert_names_service_port_and_log, fake_binary, pids_mentioning, run, script_env, wait_dead,
)

from inrzoo.services import ServiceSettings
from inrzoo.services.envfile import read_env_file
from inrzoo.services.processes import free_port

pytestmark = pytest.mark.integration


def test_object_store_start_twice_stop_twice(tmp_path):
    state = tmp_path / "state"
    env = script_env(state)
    first = run("objectstore", "start", env=env)
    assert first.returncode == 0, first.stderr
    record = json.loads((state / "objectstore" / "process.json").read_text())
    try:
        again = run("objectstore", "start", env=env)
        assert again.returncode == 0 and "already running" in again.stderr
        assert json.loads((state / "objectstore" / "process.json").read_text())["pid"] == record["pid"]
        assert run("objectstore", "status", env=env).returncode == 0
        exported = read_env_file(state / "env.sh")
        assert exported["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{env['INRZOO_S3_PORT']}"
    finally:
        stopped = run("objectstore", "stop", env=env)
    assert stopped.returncode == 0 and "objectstore: stopped" in stopped.stderr
    assert wait_dead(record["pid"])
    assert not pids_mentioning(str(state))
    assert not ServiceSettings(state_dir=state).runtime_dir("objectstore").exists()
    assert "not running" in run("objectstore", "stop", env=env).stderr
    assert run("objectstore", "status", env=env).returncode == 3
    assert "AWS_ENDPOINT_URL" not in read_env_file(state / "env.sh")


def test_up_stops_what_it_started_when_a_later_service_fails(tmp_path):
    fake_ray = fake_binary(tmp_path, "echo 'ray: no' >&2\nexit 1\n")
    state = tmp_path / "state"
    env = script_env(state, INRZOO_RAY_BIN=str(fake_ray))
    result = run("up", env=env)
    assert result.returncode == 1
    assert "ray-head" in result.stderr and f"port {env['INRZOO_RAY_DASHBOARD_PORT']}" in result.stderr
    assert "objectstore: stopped" in result.stderr
    assert run("objectstore", "status", env=env).returncode == 3
    assert not pids_mentioning(str(state))


def test_up_prints_the_environment_of_running_services(service_stack, object_store, ray_head, mlflow_server):
    result = run("up", env=service_stack.env)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("already running") == 3
    exported = dict(line[len("export "):].split("=", 1) for line in result.stdout.splitlines())
    assert exported["MLFLOW_TRACKING_URI"] == mlflow_server.tracking_uri
    assert exported["RAY_ADDRESS"] == ray_head.address
    assert exported["AWS_ENDPOINT_URL"] == object_store.endpoint_url
    assert exported["RAY_AUTH_MODE"] == "disabled"


def test_real_mlflow_server_dying_on_an_unreachable_database_leaves_nothing(tmp_path):
    # Nothing listens on this port (and without a PostgreSQL driver MLflow dies sooner).
    database = f"postgresql://inrzoo:secret@127.0.0.1:{free_port()}/mlflow"
    env = script_env(tmp_path / "state", INRZOO_MLFLOW_BACKEND_STORE_URI=database)
    try:
        result = run("mlflow-server", "start", env=env)
        assert_names_service_port_and_log(result, "mlflow-server", env["INRZOO_MLFLOW_PORT"],
                                          tmp_path / "state")
        assert "while starting" in result.stderr
        assert not pids_mentioning(str(tmp_path))
    finally:
        run("mlflow-server", "stop", env=env)
