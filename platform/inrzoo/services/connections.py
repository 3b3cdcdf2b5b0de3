"""How a client reaches each running service, built from the environment that `up` prints
(or from os.environ after `source .inrzoo/env.sh`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from inrzoo.services.settings import ServiceError


def _require(env: Mapping[str, str], keys: tuple[str, ...], service: str) -> dict[str, str]:
    missing = [key for key in keys if not env.get(key)]
    if missing:
        raise ServiceError(
            f"{service}: environment lacks {', '.join(missing)} (start it with infra/local/up "
            "and source <state_dir>/env.sh)"
        )
    return {key: env[key] for key in keys}


@dataclass(frozen=True)
class ObjectStoreConnection:
    endpoint_url: str
    key: str
    secret: str
    bucket: str
    region: str = "us-east-1"
    env: dict[str, str] = field(default_factory=dict, compare=False)

    KEYS = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "INRZOO_S3_BUCKET")
    OPTIONAL_KEYS = ("AWS_DEFAULT_REGION", "FSSPEC_S3_ENDPOINT_URL", "MLFLOW_S3_ENDPOINT_URL",
                     "INRZOO_S3_ENDPOINT_URL")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "ObjectStoreConnection":
        values = _require(env, cls.KEYS, "objectstore")
        values.update({key: env[key] for key in cls.OPTIONAL_KEYS if env.get(key)})
        return cls(
            endpoint_url=values["AWS_ENDPOINT_URL"], key=values["AWS_ACCESS_KEY_ID"],
            secret=values["AWS_SECRET_ACCESS_KEY"], bucket=values["INRZOO_S3_BUCKET"],
            region=values.get("AWS_DEFAULT_REGION", "us-east-1"), env=values,
        )

    @property
    def storage_options(self) -> dict:
        """Keyword arguments for s3fs / fsspec.open / zarr's storage_options."""
        return {
            "key": self.key, "secret": self.secret, "endpoint_url": self.endpoint_url,
            "client_kwargs": {"region_name": self.region},
        }

    def uri(self, *parts: str) -> str:
        """s3:// URI of a path inside the default bucket."""
        return "s3://" + "/".join([self.bucket, *(p.strip("/") for p in parts)])


@dataclass(frozen=True)
class RayHeadConnection:
    address: str  # the dashboard / job API URL: what `ray job submit` wants
    gcs_address: str  # host:port for ray.init from this machine
    auth_mode: str = "disabled"
    env: dict[str, str] = field(default_factory=dict, compare=False)

    KEYS = ("RAY_ADDRESS", "INRZOO_RAY_GCS_ADDRESS", "RAY_AUTH_MODE")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "RayHeadConnection":
        values = _require(env, cls.KEYS, "ray-head")
        if env.get("RAY_AUTH_TOKEN_PATH"):
            values["RAY_AUTH_TOKEN_PATH"] = env["RAY_AUTH_TOKEN_PATH"]
        values["INRZOO_RAY_DASHBOARD_URL"] = values["RAY_ADDRESS"]
        return cls(
            address=values["RAY_ADDRESS"], gcs_address=values["INRZOO_RAY_GCS_ADDRESS"],
            auth_mode=values["RAY_AUTH_MODE"], env=values,
        )

    @property
    def dashboard_url(self) -> str:
        return self.address


@dataclass(frozen=True)
class MlflowConnection:
    tracking_uri: str
    env: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "MlflowConnection":
        values = _require(env, ("MLFLOW_TRACKING_URI",), "mlflow-server")
        return cls(tracking_uri=values["MLFLOW_TRACKING_URI"], env=values)
