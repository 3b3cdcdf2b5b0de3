"""MLflow run status that tells the truth after a kill.

A driver stopped with SIGTERM (`ray job stop`, a scheduler's preemption, Ctrl-\\ in a
terminal) dies without unwinding, so its MLflow run would stay RUNNING forever.
`terminated_as_killed` turns SIGTERM into an exception that ends the run as KILLED, and, should
that exception be swallowed on its way up (Python discards an exception raised while a finalizer
runs, for one), ends the run and the process itself after STOP_GRACE_S. A driver killed outright
(SIGKILL, a lost node) cannot do even that, so the next run of the same dataset closes such stale
RUNNING runs (`close_stale_runs`) before it starts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Iterator

logger = logging.getLogger(__name__)
# Seconds a SIGTERM'd driver gets to unwind before it is stopped from a timer thread (chosen:
# unwinding takes a second or two; a scheduler's own grace period is typically 30 s).
STOP_GRACE_S = 20.0

DATASET_TAG = "inrzoo.dataset"


class Terminated(BaseException):
    """SIGTERM arrived: unwind (a BaseException, so no `except Exception` swallows it)."""


@contextlib.contextmanager
def terminated_as_killed() -> Iterator[None]:
    """Inside: SIGTERM raises Terminated, the active MLflow run is ended as KILLED and the
    process exits with 143 (128 + SIGTERM), as it would have without the handler."""
    import mlflow

    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be installed from the main thread
        return

    stopping = threading.Event()

    def on_sigterm(signum, frame):
        if not stopping.is_set():
            stopping.set()
            run = mlflow.active_run()
            timer = threading.Timer(STOP_GRACE_S, _stop_unwound, (run.info.run_id if run is not None else None,))
            timer.daemon = True
            timer.start()
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    except Terminated:
        run = mlflow.active_run()
        if run is not None:
            logger.warning("SIGTERM: marking MLflow run %s as KILLED", run.info.run_id)
            mlflow.end_run(status="KILLED")
        raise SystemExit(128 + signal.SIGTERM) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stop_unwound(run_id: str | None) -> None:
    """The Terminated exception did not end the process within the grace period: end the run as
    KILLED and exit with 143 from here."""
    logger.warning("SIGTERM: still running %.0f s later (the exception was swallowed); stopping now", STOP_GRACE_S)
    try:
        if run_id is not None:
            import mlflow

            mlflow.MlflowClient().set_terminated(run_id, status="KILLED")
    finally:
        logging.shutdown()
        os._exit(128 + signal.SIGTERM)


def close_stale_runs(dataset: str, current_run_id: str) -> list[str]:
    """End as KILLED every RUNNING run of the current run's experiment that wrote `dataset`,
    except the current one: conversions of one dataset run one at a time (one coordinator), so
    such a run belongs to a driver that was killed outright."""
    import mlflow

    if "'" in dataset:  # MLflow's filter syntax has no escape for quotes
        return []
    client = mlflow.MlflowClient()
    experiment_id = client.get_run(current_run_id).info.experiment_id
    stale = client.search_runs([experiment_id], filter_string=f"tags.`{DATASET_TAG}` = '{dataset}' and "
                                                              "attributes.status = 'RUNNING'")
    closed = []
    for run in stale:
        if run.info.run_id == current_run_id:
            continue
        client.set_tag(run.info.run_id, "inrzoo.closed_by", current_run_id)
        client.set_terminated(run.info.run_id, status="KILLED")
        logger.warning("%s: closed MLflow run %s, left RUNNING by a driver that was killed", dataset, run.info.run_id)
        closed.append(run.info.run_id)
    return closed
