"""An S3 object store for the store's integration tests, started through inrzoo.services
(the same code as infra/local/objectstore) on a free port with its own state directory."""

from __future__ import annotations

import pytest

from inrzoo.services.processes import free_port


@pytest.fixture(scope="module")
def s3_options(tmp_path_factory):
    """{"bucket": ..., "storage_options": {endpoint_url, key, secret}} of a running SeaweedFS."""
    from inrzoo.services import ObjectStore, ServiceSettings

    settings = ServiceSettings(state_dir=tmp_path_factory.mktemp("s3state"), s3_port=free_port(),
                               s3_bucket="store-tests")
    store = ObjectStore(settings)
    _, started = store.start()
    creds = store.credentials()
    yield {"bucket": settings.s3_bucket,
           "storage_options": {"endpoint_url": store.endpoint_url, "key": creds["access_key"],
                               "secret": creds["secret_key"]}}
    if started:
        store.stop()
