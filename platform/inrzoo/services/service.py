"""A local service run as a child process: start (idempotent, waits for readiness with a
timeout), stop (only the process tree it recorded), status.

State of a service NAME lives in <state_dir>/NAME/: `NAME.log` (stdout and stderr),
`process.json` (pid, start time, ports) and whatever the service keeps.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import fcntl
import json
import os
import shutil
import subprocess
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from inrzoo.services import processes
from inrzoo.services.settings import ServiceError, ServiceSettings, venv_bin_dir


@dataclass
class ProcessRecord:
    pid: int
    start_ticks: int
    ports: dict[str, int] = field(default_factory=dict)
    command: list[str] = field(default_factory=list)
    started_at: float = 0.0
    ready_s: float = 0.0  # seconds from spawn to ready


class Service(ABC):
    """Base class; subclasses define the command line, readiness and client environment."""

    name = "service"
    title = "service"
    port_names: tuple[str, ...] = ()  # public ports, checked before starting
    internal_port_names: tuple[str, ...] = ()  # picked free at each start
    default_start_timeout_s = 60.0
    default_stop_timeout_s = 40.0  # the grace before SIGKILL
    unset_env: tuple[str, ...] = ()  # caller's variables the service must not inherit
    root_stops_first = True  # SIGTERM the recorded process first, so it can stop its children in order

    def __init__(self, settings: ServiceSettings):
        self.settings = settings
        self._log_offset = 0

    # --- to be defined by subclasses -------------------------------------------------
    @abstractmethod
    def public_ports(self) -> dict[str, int]:
        raise NotImplementedError

    @abstractmethod
    def executable(self) -> str:
        raise NotImplementedError

    @abstractmethod
    def command(self, ports: dict[str, int]) -> list[str]:
        raise NotImplementedError

    def prepare(self) -> None:
        """Write configuration files before the process starts."""

    def extra_env(self) -> dict[str, str]:
        return {}

    @abstractmethod
    def is_ready(self, record: ProcessRecord) -> bool:
        raise NotImplementedError

    def after_ready(self, record: ProcessRecord) -> None:
        """Work that needs the running service (e.g. creating the default bucket)."""

    @abstractmethod
    def client_env(self, record: ProcessRecord) -> dict[str, str]:
        raise NotImplementedError

    # --- paths and messages ------------------------------------------------------------
    @property
    def dir(self) -> Path:
        return self.settings.service_dir(self.name)

    @property
    def log_path(self) -> Path:
        return self.dir / f"{self.name}.log"

    @property
    def record_path(self) -> Path:
        return self.dir / "process.json"

    @property
    def main_port(self) -> int:
        return next(iter(self.public_ports().values()))

    def error(self, reason: str, details: str = "") -> ServiceError:
        message = f"{self.name} ({self.title}, port {self.main_port}): {reason}; log: {self.log_path}"
        return ServiceError(message + (f"\n{details}" if details else ""))

    # --- state -------------------------------------------------------------------------
    def read_record(self) -> ProcessRecord | None:
        try:
            return ProcessRecord(**json.loads(self.record_path.read_text()))
        except (FileNotFoundError, NotADirectoryError, ValueError, TypeError):
            return None

    def running_record(self) -> ProcessRecord | None:
        record = self.read_record()
        if record and processes.is_alive(record.pid, record.start_ticks):
            return record
        return None

    def _ensure_writable_state(self) -> None:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            probe = self.dir / ".write-probe"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise self.error(f"state directory {self.dir} is not writable ({exc})") from None

    @contextmanager
    def _locked(self):
        """One start/stop at a time per state directory."""
        with open(self.dir / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # --- lifecycle ---------------------------------------------------------------------
    def start(self) -> tuple[ProcessRecord, bool]:
        """Start the service, or find it running. Returns (record, started_now)."""
        self._ensure_writable_state()
        with self._locked():
            record = self.running_record()
            if record is not None:
                self._wait_ready(record, proc=None)
                return record, False
            self.record_path.unlink(missing_ok=True)
            return self._spawn(), True

    def _spawn(self) -> ProcessRecord:
        binary = self.executable()
        if shutil.which(binary) is None:
            raise self.error(f"executable {binary!r} not found or not executable")
        for port_name, port in self.public_ports().items():
            if processes.port_in_use(port):
                raise self.error(f"port {port} ({port_name}) is already in use")
        ports = dict(self.public_ports())
        ports.update({name: processes.free_port() for name in self.internal_port_names})
        try:
            proc = self._launch(binary, ports)
        except ServiceError:
            self._remove_outside_runtime_dir()
            raise
        began = time.monotonic()
        record = ProcessRecord(
            pid=proc.pid, start_ticks=processes.start_ticks(proc.pid) or 0, ports=ports,
            command=list(proc.args), started_at=time.time(),
        )
        self._write_record(record)
        try:
            self._wait_ready(record, proc)
            self.after_ready(record)
        except BaseException:
            processes.terminate_tree(proc.pid, grace_s=5.0)
            proc.wait()
            self.record_path.unlink(missing_ok=True)
            self._remove_outside_runtime_dir()
            raise
        record.ready_s = round(time.monotonic() - began, 2)
        self._write_record(record)
        return record

    def _launch(self, binary: str, ports: dict[str, int]) -> subprocess.Popen:
        """Write the configuration and start the process in its own session (its group is
        what stop kills), output appended to the log."""
        self.prepare()
        command = [binary, *self.command(ports)]
        env = {k: v for k, v in os.environ.items() if k not in self.unset_env}
        env.update(self.extra_env())
        env["PATH"] = venv_bin_dir() + os.pathsep + env.get("PATH", "")
        with open(self.log_path, "ab") as log:
            self._log_offset = log.tell()  # error messages quote this attempt's lines only
            log.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(command)}\n".encode())
            log.flush()
            try:
                return subprocess.Popen(
                    command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    cwd=self.dir, env=env, start_new_session=True,
                )
            except OSError as exc:
                raise self.error(f"cannot run {binary!r} ({exc})") from None

    def _write_record(self, record: ProcessRecord) -> None:
        self.record_path.write_text(json.dumps(asdict(record), indent=1))

    def _wait_ready(self, record: ProcessRecord, proc: subprocess.Popen | None) -> None:
        timeout = self.settings.start_timeout_s or self.default_start_timeout_s
        deadline = time.monotonic() + timeout
        while True:
            code = proc.poll() if proc is not None else None
            if code is not None or not processes.is_alive(record.pid, record.start_ticks):
                raise self.error(f"exited with code {code} while starting",
                                 f"last lines of the log:\n{self.log_tail()}")
            if self.is_ready(record):
                return
            if time.monotonic() > deadline:
                raise self.error(f"not ready after {timeout:.0f} s (timeout)",
                                 f"last lines of the log:\n{self.log_tail()}")
            time.sleep(0.3)

    def stop(self) -> bool:
        """Stop the recorded process tree; False when nothing of ours was running."""
        if not self.dir.is_dir():
            return False
        with self._locked():
            record = self.running_record()
            if record is None:
                self.record_path.unlink(missing_ok=True)  # stale record of a dead process
                return False
            grace = self.settings.stop_timeout_s or self.default_stop_timeout_s
            left = processes.terminate_tree(record.pid, grace_s=grace, root_first=self.root_stops_first)
            still = processes.alive_members(left)
            if still:
                raise self.error(f"processes {sorted(still)} survived SIGKILL")
            self.record_path.unlink(missing_ok=True)
            self._remove_outside_runtime_dir()
            return True

    def _remove_outside_runtime_dir(self) -> None:
        """A runtime dir moved to /tmp (long state dir paths) would otherwise pile up there."""
        run = self.settings.runtime_dir(self.name)
        if run.is_relative_to(self.settings.state_dir):
            return
        shutil.rmtree(run, ignore_errors=True)
        try:
            run.parent.rmdir()  # /tmp/inrzoo-<hash>, once no service of this state dir uses it
        except OSError:
            pass

    def status(self) -> str:
        """'running', 'unhealthy' (alive but not answering) or 'stopped'."""
        record = self.running_record()
        if record is None:
            return "stopped"
        return "running" if self.is_ready(record) else "unhealthy"

    def log_tail(self, lines: int = 15) -> str:
        try:
            with open(self.log_path, "rb") as log:
                log.seek(self._log_offset)
                text = log.read().decode(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(text[-lines:])
