"""A Ray head in token mode (INRZOO_RAY_AUTH_MODE=token): the job API refuses requests
without the token from the state directory and accepts `ray job submit` with it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from servicescripts import run, script_env

from inrzoo.services.envfile import read_env_file

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_token_mode_requires_the_generated_token(tmp_path):
    state = Path(tempfile.mkdtemp(prefix="inrzoo-k", dir="/tmp")) / "state"  # short: Ray sockets
    env = script_env(state, INRZOO_RAY_AUTH_MODE="token")
    try:
        started = run("ray-head", "start", env=env, timeout=400)
        assert started.returncode == 0, started.stderr
        exported = read_env_file(state / "env.sh")
        token_path = Path(exported["RAY_AUTH_TOKEN_PATH"])
        assert exported["RAY_AUTH_MODE"] == "token"
        assert oct(token_path.stat().st_mode & 0o777) == "0o600"

        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{exported['RAY_ADDRESS']}/api/jobs/", timeout=30)
        assert refused.value.code in (401, 403)

        client_env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
        submitted = subprocess.run(
            [str(Path(sys.executable).parent / "ray"), "job", "submit", "--address",
             exported["RAY_ADDRESS"], "--", "python", "-c", "print('token ok')"],
            env={**client_env, **exported}, capture_output=True, text=True, timeout=400,
        )
        assert submitted.returncode == 0, submitted.stderr
        assert "token ok" in submitted.stdout
    finally:
        stopped = run("ray-head", "stop", env=env, timeout=200)
        assert stopped.returncode == 0, stopped.stderr
        shutil.rmtree(state.parent, ignore_errors=True)
