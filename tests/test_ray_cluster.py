"""Which Ray cluster a driver joins: the address rules shared by conversions and training."""

from __future__ import annotations

import pytest

from inrzoo.ray_cluster import cluster_address


def test_the_job_api_url_that_infra_exports_is_joined_through_the_gcs_address(monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "http://127.0.0.1:8265")
    monkeypatch.setenv("INRZOO_RAY_GCS_ADDRESS", "127.0.0.1:6379")
    assert cluster_address() == "127.0.0.1:6379"
    assert cluster_address("10.0.0.5:6379") == "10.0.0.5:6379"  # an explicit address wins


def test_a_job_api_url_without_a_gcs_address_is_refused_naming_it(monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "http://head:8265")
    monkeypatch.delenv("INRZOO_RAY_GCS_ADDRESS", raising=False)
    with pytest.raises(ValueError, match="http://head:8265 is a job API URL"):
        cluster_address()


def test_no_address_means_a_local_ray(monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert cluster_address() == ""
    monkeypatch.setenv("RAY_ADDRESS", "auto")  # inside a submitted job: Ray's own value, passed on
    assert cluster_address() == "auto"
