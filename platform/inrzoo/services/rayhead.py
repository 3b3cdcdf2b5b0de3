"""Ray head (`ray start --head --block`) with its dashboard and job API on 127.0.0.1.

`--block` keeps `ray start` in the foreground as the parent of GCS, raylet and dashboard,
so stopping its recorded process tree stops exactly this cluster; `ray stop` would stop
every Ray process on the machine and is never used.
"""

from __future__ import annotations

import os
import secrets

from inrzoo.services.processes import http_status
from inrzoo.services.service import ProcessRecord, Service
from inrzoo.services.settings import HOST, find_executable


class RayHead(Service):
    name = "ray-head"
    title = "Ray head"
    # Ray's client server and dashboard agent have fixed defaults (10001, 52365) that clash
    # with any other Ray on the machine; nothing outside needs them, so pick free ones.
    internal_port_names = ("client_server", "dashboard_agent")
    default_start_timeout_s = 180.0
    # A client's RAY_ADDRESS (e.g. from another stack's env.sh) must not leak into the head.
    unset_env = ("RAY_ADDRESS",)
    # `ray start --block` answers SIGTERM by stopping its children one by one, gracefully: after
    # a Ray Train job that took 34 s (20 s before anything exited). `ray stop` signals every
    # process at once too; the cluster keeps no state worth an ordered shutdown.
    root_stops_first = False
    # Measured on Ray 2.60 (2026-12-08): SIGTERM to the whole tree ends all but three of its
    # processes within 2 s; `ray start --block`, the raylet and the autoscaler monitor then hang
    # until SIGKILL (40 s with the general grace, 63 s in a loaded test teardown). Like
    # `ray stop --force`, a short grace: nothing of the cluster outlives it.
    default_stop_timeout_s = 6.0

    def public_ports(self) -> dict[str, int]:
        return {"dashboard": self.settings.ray_dashboard_port, "gcs": self.settings.ray_port}

    def executable(self) -> str:
        return find_executable("ray", "INRZOO_RAY_BIN")

    @property
    def dashboard_url(self) -> str:
        return f"http://{HOST}:{self.settings.ray_dashboard_port}"

    @property
    def token_path(self):
        return self.dir / "auth_token"

    def auth_token(self) -> str:
        """The cluster token (token mode only), generated once and kept with mode 0600."""
        if not self.token_path.exists():
            fd = os.open(self.token_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
        return self.token_path.read_text().strip()

    def prepare(self) -> None:
        temp_dir = self.settings.runtime_dir(self.name)
        temp_dir.mkdir(parents=True, exist_ok=True)
        link = self.dir / "ray-temp"
        if temp_dir != self.dir / "run":
            link.unlink(missing_ok=True)
            link.symlink_to(temp_dir)  # the session logs, found from the state dir
        if self.settings.ray_auth_mode == "token":
            self.auth_token()

    def auth_env(self) -> dict[str, str]:
        """Ray 2.60 turns token auth on by itself when ~/.ray/auth_token exists: the mode is
        always set explicitly."""
        env = {"RAY_AUTH_MODE": self.settings.ray_auth_mode}
        if self.settings.ray_auth_mode == "token":
            env["RAY_AUTH_TOKEN_PATH"] = str(self.token_path)
        return env

    def extra_env(self) -> dict[str, str]:
        # Ray gives its dashboard 60 s to come up, then `ray start` fails; on a loaded 2-core
        # machine it took 66 s (2026-12-08). Our own start timeout is the one deadline.
        startup = self.settings.start_timeout_s or self.default_start_timeout_s
        return {**self.auth_env(), "RAY_USAGE_STATS_ENABLED": "0", "RAY_DASHBOARD_STARTUP_TIMEOUT_S": str(int(startup))}

    def command(self, ports: dict[str, int]) -> list[str]:
        s = self.settings
        return [
            "start", "--head", "--block", f"--port={ports['gcs']}",
            "--include-dashboard=true", f"--dashboard-host={HOST}",
            f"--dashboard-port={ports['dashboard']}",
            f"--ray-client-server-port={ports['client_server']}",
            f"--dashboard-agent-listen-port={ports['dashboard_agent']}",
            f"--num-cpus={s.ray_num_cpus}", f"--object-store-memory={s.ray_object_store_bytes}",
            f"--temp-dir={s.runtime_dir(self.name)}", "--disable-usage-stats",
        ]

    def http_headers(self) -> dict[str, str]:
        if self.settings.ray_auth_mode == "token":
            return {"Authorization": f"Bearer {self.auth_token()}"}
        return {}

    def is_ready(self, record: ProcessRecord) -> bool:
        # The job API answers only once the dashboard's job module and the GCS are up.
        return http_status(f"{self.dashboard_url}/api/jobs/", self.http_headers()) == 200

    def client_env(self, record: ProcessRecord) -> dict[str, str]:
        return {
            "RAY_ADDRESS": self.dashboard_url,
            "INRZOO_RAY_DASHBOARD_URL": self.dashboard_url,
            "INRZOO_RAY_GCS_ADDRESS": f"{HOST}:{self.settings.ray_port}",
            **self.auth_env(),
        }
