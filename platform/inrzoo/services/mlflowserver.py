"""MLflow tracking server: SQLite backend store by default (a PostgreSQL or MySQL URI is
accepted), artifacts proxied to the object store, one uvicorn worker, no job runner."""

from __future__ import annotations

import os

from inrzoo.services.objectstore import ObjectStore
from inrzoo.services.processes import http_status
from inrzoo.services.service import ProcessRecord, Service
from inrzoo.services.settings import HOST, find_executable

SUPPORTED_BACKENDS = ("sqlite", "postgresql", "mysql", "mssql")


class MlflowServer(Service):
    name = "mlflow-server"
    title = "MLflow tracking server"
    default_start_timeout_s = 120.0

    def public_ports(self) -> dict[str, int]:
        return {"http": self.settings.mlflow_port}

    def executable(self) -> str:
        return find_executable("mlflow", "INRZOO_MLFLOW_BIN")

    @property
    def tracking_uri(self) -> str:
        return f"http://{HOST}:{self.settings.mlflow_port}"

    def backend_store_uri(self) -> str:
        uri = self.settings.mlflow_backend_store_uri or f"sqlite:///{self.dir / 'mlflow.db'}"
        scheme = uri.split(":", 1)[0].split("+", 1)[0]
        if scheme not in SUPPORTED_BACKENDS:
            raise self.error(
                f"backend store URI {uri!r} is not a database URI "
                f"(expected one of {', '.join(s + '://' for s in SUPPORTED_BACKENDS)})"
            )
        return uri

    def artifacts_destination(self) -> str:
        return self.settings.mlflow_artifacts_destination or f"s3://{self.settings.s3_bucket}/mlflow"

    def extra_env(self) -> dict[str, str]:
        # The default 4 workers plus a job runner took 2.4 GiB and 29 s to start here.
        env = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
        if not self.artifacts_destination().startswith("s3://"):
            return env
        store = ObjectStore(self.settings)
        record = store.running_record()
        if record is not None:
            store_env = store.client_env(record)
            env.update({k: store_env[k] for k in (
                "MLFLOW_S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                "AWS_DEFAULT_REGION")})
        elif not os.environ.get("MLFLOW_S3_ENDPOINT_URL"):
            raise self.error(
                f"artifacts go to {self.artifacts_destination()} but the object store of "
                f"{self.settings.state_dir} is not running (start infra/local/objectstore "
                "first, or set INRZOO_MLFLOW_ARTIFACTS_DESTINATION / MLFLOW_S3_ENDPOINT_URL)"
            )
        return env

    def command(self, ports: dict[str, int]) -> list[str]:
        return [
            "server", "--backend-store-uri", self.backend_store_uri(),
            "--artifacts-destination", self.artifacts_destination(), "--serve-artifacts",
            "--host", HOST, "--port", str(ports["http"]), "--workers", "1",
        ]

    def prepare(self) -> None:
        self.backend_store_uri()  # a bad URI fails before anything starts

    def is_ready(self, record: ProcessRecord) -> bool:
        if http_status(f"{self.tracking_uri}/health") != 200:
            return False
        # The health route answers before the backend store does; ask the store too.
        search = f"{self.tracking_uri}/api/2.0/mlflow/experiments/search?max_results=1"
        return http_status(search) == 200

    def client_env(self, record: ProcessRecord) -> dict[str, str]:
        return {"MLFLOW_TRACKING_URI": self.tracking_uri}
