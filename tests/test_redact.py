"""Redaction of secrets: by key, by known value, by form (URL user-info, query credentials),
in configs, texts, overrides and log records; and the dataset attributes and card."""

from __future__ import annotations

import logging

import pytest

import inrzoo
from inrzoo.redact import REDACTED, install_log_redaction, is_secret_key, redact, redact_overrides, redact_text, remember


@pytest.mark.parametrize("name", ["key", "secret", "token", "Authorization", "X-Api-Key", "aws_secret_access_key",
                                  "AWS_ACCESS_KEY_ID", "session_token", "password", "proxy_auth", "Cookie",
                                  "MLFLOW_TRACKING_PASSWORD", "sas_token", "accountKey", "client_secret", "sig"])
def test_credential_names_are_secret(name):
    assert is_secret_key(name)


@pytest.mark.parametrize("name", ["endpoint_url", "region_name", "uri", "bucket", "fit", "max_epochs", "label_keys",
                                  "monitor", "storage_options", "headers", "client_kwargs", "AWS_ENDPOINT_URL"])
def test_ordinary_names_are_not(name):
    assert not is_secret_key(name)


def test_storage_options_are_redacted_and_their_values_cut_from_other_strings():
    config = {"source": {"uri": "s3://bucket/meshes", "storage_options": {
                  "key": "AKIAEXAMPLE123", "secret": "s3cr3t-value-xyz", "endpoint_url": "http://127.0.0.1:8333",
                  "client_kwargs": {"region_name": "us-east-1", "aws_session_token": "tok-123456"}}},
              "output": {"uri": "https://user:pa55word@host/ds.zarr?X-Amz-Signature=abcdef&part=1",
                         "storage_options": {"headers": {"Authorization": "Bearer abcdefgh", "Accept": "json"}}},
              "note": "copied from s3cr3t-value-xyz", "empty": {"secret": None}}
    out = redact(config)
    options = out["source"]["storage_options"]
    assert options["key"] == options["secret"] == options["client_kwargs"]["aws_session_token"] == REDACTED
    assert options["endpoint_url"] == "http://127.0.0.1:8333" and options["client_kwargs"]["region_name"] == "us-east-1"
    assert out["output"]["storage_options"]["headers"] == {"Authorization": REDACTED, "Accept": "json"}
    assert out["output"]["uri"] == f"https://{REDACTED}@host/ds.zarr?X-Amz-Signature={REDACTED}&part=1"
    assert out["note"] == f"copied from {REDACTED}" and out["empty"] == {"secret": None}
    assert config["source"]["storage_options"]["secret"] == "s3cr3t-value-xyz"  # a copy: the input is kept


def test_environment_and_remembered_secrets_are_cut_from_texts(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret-0123")
    remember("remembered-secret-42")
    text = "failed with env-secret-0123 and remembered-secret-42 at s3://bucket"
    assert redact_text(text) == f"failed with {REDACTED} and {REDACTED} at s3://bucket"
    assert redact_text("short 1 2") == "short 1 2"


def test_the_shells_working_directory_is_not_a_password(monkeypatch, tmp_path):
    monkeypatch.setenv("PWD", str(tmp_path))  # "pwd" is a password word; $PWD is a folder
    monkeypatch.setenv("DB_PWD", "hunter2-hunter2")
    text = f"writing {tmp_path}/out.zarr with hunter2-hunter2"
    assert redact_text(text) == f"writing {tmp_path}/out.zarr with {REDACTED}"


def test_overrides_and_log_records_are_redacted(monkeypatch, caplog):
    assert redact_overrides(["output.storage_options.secret=abcdefgh", "fit.max_epochs=3"]) == [
        f"output.storage_options.secret={REDACTED}", "fit.max_epochs=3"]
    monkeypatch.setenv("SOME_API_TOKEN", "token-value-777")
    install_log_redaction()
    with caplog.at_level(logging.INFO):
        logging.getLogger("inrzoo.test").info("using %s at %s", "token-value-777", "https://u:p@host/x")
    assert caplog.records[-1].getMessage() == f"using {REDACTED} at https://{REDACTED}@host/x"


def test_config_errors_do_not_quote_secret_overrides():
    from inrzoo.pipeline import load_convert_config

    with pytest.raises(ValueError) as info:
        load_convert_config(None, ["output.storage_options.secret=abcdefgh-secret", "output.chunk_rows=three"])
    assert "abcdefgh-secret" not in str(info.value) and REDACTED in str(info.value)


def test_dataset_attributes_and_card_hold_no_secret(tmp_path):
    from store.weights_helpers import TOY, fill, listing

    uri = str(tmp_path / "ds.zarr")
    config = {"source": {"storage_options": {"headers": {"Authorization": "Bearer sekrit-999"}}},
              "output": {"storage_options": {"key": "AKIA-planted-1", "secret": "planted-secret-2"}}}
    writer = inrzoo.create_weights(uri, listing(3), [TOY], chunk_rows=4, config=config,
                                   collection={"name": "x", "root": "https://user:sekrit-999@host/meshes"})
    fill(writer)
    writer.finalize()
    stored = "".join(p.read_text(errors="replace") for p in (tmp_path / "ds.zarr").rglob("*") if p.is_file())
    for secret in ("sekrit-999", "AKIA-planted-1", "planted-secret-2"):
        assert secret not in stored
    attrs = inrzoo.open_weights(uri).attrs
    assert attrs["config"]["output"]["storage_options"]["secret"] == REDACTED
    assert attrs["collection"]["root"] == f"https://{REDACTED}@host/meshes"
