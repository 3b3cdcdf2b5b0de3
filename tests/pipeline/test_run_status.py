"""A SIGTERM'd driver exits with 143 even when its Terminated exception is swallowed on the way up."""

import subprocess
import sys
import time

import pytest

SWALLOWED = """
import os, signal, time
from inrzoo.pipeline import run_status
run_status.STOP_GRACE_S = {grace}

class RaisesInAFinalizer:
    def __del__(self):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.2)  # the handler runs here, inside a finalizer: Python discards its exception

with run_status.terminated_as_killed():
    {body}
    print("still running", flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("body, swallowed", [("RaisesInAFinalizer()", True),
                                             ("os.kill(os.getpid(), signal.SIGTERM); time.sleep(1)", False)])
def test_a_sigterm_ends_the_driver_with_143(body, swallowed):
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", SWALLOWED.format(grace=1.0, body=body)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 143, done.stderr[-2000:]
    assert ("still running" in done.stdout) == swallowed  # the exception was lost, the timer stopped it
    assert time.monotonic() - started < 30
