"""Local services for development and tests: SeaweedFS S3 object store, Ray head, MLflow
tracking server. One implementation for the infra/local scripts and the pytest fixtures;
see docs/services.md."""

from inrzoo.services.connections import (
    MlflowConnection, ObjectStoreConnection, RayHeadConnection,
)
from inrzoo.services.envfile import ENV_FILE, client_environment, read_env_file, write_env_file
from inrzoo.services.mlflowserver import MlflowServer
from inrzoo.services.objectstore import ObjectStore
from inrzoo.services.rayhead import RayHead
from inrzoo.services.service import ProcessRecord, Service
from inrzoo.services.settings import ServiceError, ServiceSettings

# Start order; stop runs in reverse (MLflow needs the object store).
SERVICES: dict[str, type[Service]] = {
    ObjectStore.name: ObjectStore,
    RayHead.name: RayHead,
    MlflowServer.name: MlflowServer,
}


def build(name: str, settings: ServiceSettings | None = None) -> Service:
    if name not in SERVICES:
        raise ServiceError(f"unknown service {name!r}; expected one of {', '.join(SERVICES)}")
    return SERVICES[name](settings or ServiceSettings.from_env())


__all__ = [
    "ENV_FILE", "SERVICES", "MlflowConnection", "MlflowServer", "ObjectStore",
    "ObjectStoreConnection", "ProcessRecord", "RayHead", "RayHeadConnection",
    "Service", "ServiceError", "ServiceSettings", "build", "client_environment",
    "read_env_file", "write_env_file",
]
