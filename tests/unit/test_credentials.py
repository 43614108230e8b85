"""Secrets through a cache with a TTL: read once, read again when stale, the last good values kept
when a refresh fails, and a changed secret reaching the auth check and the Workers AI client of a
process that keeps running (a warm Lambda)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from openai_cf import errors as e
from openai_cf.api.app import create_app
from openai_cf.credentials import RETRY_SECONDS, CachedSecret, Credentials, parse_secret, secrets_manager_fetch
from openai_cf.services.container import Services
from openai_cf.settings import Settings

TTL = 300.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeSecrets:
    """A Secrets Manager of plain values that counts its calls and can be made to fail."""

    def __init__(self, **values: str) -> None:
        self.values = dict(values)
        self.calls = 0
        self.failing: Exception | None = None

    def __call__(self, secret_id: str) -> str:
        self.calls += 1
        if self.failing is not None:
            raise self.failing
        return self.values[secret_id]


def test_a_secret_is_read_once_per_ttl() -> None:
    clock, secrets = Clock(), FakeSecrets(arn="tok-1")
    cached = CachedSecret("arn", "ACCESS_TOKEN", secrets, ttl=TTL, clock=clock)
    # When it is read many times within the TTL, then Secrets Manager is asked once
    assert [cached.values() for _ in range(100)] == [{"ACCESS_TOKEN": "tok-1"}] * 100
    assert secrets.calls == 1
    # When the secret changes, the old value serves until the TTL is up
    secrets.values["arn"] = "tok-2"
    clock.now += TTL - 1
    assert cached.values() == {"ACCESS_TOKEN": "tok-1"}
    # And then one read brings the new one
    clock.now += 1
    assert cached.values() == {"ACCESS_TOKEN": "tok-2"}
    assert secrets.calls == 2


def test_a_failed_refresh_keeps_the_last_values_and_logs_none_of_them(caplog: pytest.LogCaptureFixture) -> None:
    clock, secrets = Clock(), FakeSecrets(arn="tok-1")
    cached = CachedSecret("arn", "ACCESS_TOKEN", secrets, ttl=TTL, clock=clock)
    cached.values()
    # Given Secrets Manager failing once the TTL is up
    secrets.failing = RuntimeError("tok-1 could not be read")
    clock.now += TTL
    with caplog.at_level(logging.WARNING, logger="openai_cf.credentials"):
        # Then the last good values serve
        assert cached.values() == {"ACCESS_TOKEN": "tok-1"}
    # And the failure is logged with the secret's id and the error's type, never a value
    (record,) = caplog.records
    assert (record.secret_id, record.error) == ("arn", "RuntimeError")  # type: ignore[attr-defined]
    assert "tok-1" not in record.getMessage() and "tok-1" not in json.dumps(record.__dict__, default=str)
    # And the next attempt waits RETRY_SECONDS, not a whole TTL (nor comes with every request)
    for _ in range(10):
        cached.values()
    assert secrets.calls == 2
    secrets.failing = None
    secrets.values["arn"] = "tok-2"
    clock.now += RETRY_SECONDS
    assert cached.values() == {"ACCESS_TOKEN": "tok-2"}


def test_a_first_read_that_fails_is_a_500_and_is_tried_again() -> None:
    secrets = FakeSecrets(arn="tok")
    secrets.failing = RuntimeError("AccessDenied")
    cached = CachedSecret("arn", "ACCESS_TOKEN", secrets, ttl=TTL, clock=Clock())
    with pytest.raises(e.InternalServerError) as raised:
        cached.values()
    assert (raised.value.status, raised.value.code) == (500, "secret_unavailable")
    # Then, nothing being there to serve, the next caller asks again
    secrets.failing = None
    assert cached.values() == {"ACCESS_TOKEN": "tok"}


@pytest.mark.parametrize(
    ("raw", "values"),
    [
        ("tok", {"ACCESS_TOKEN": "tok"}),
        ("  tok\n", {"ACCESS_TOKEN": "tok"}),
        ("new, old", {"ACCESS_TOKEN": "new, old"}),
        ('{"CLOUDFLARE_API_TOKEN": ""}', {}),
        ('{"CLOUDFLARE_API_TOKEN": "cf", "CLOUDFLARE_ACCOUNT_ID": "acct", "OTHER": "x"}',
         {"CLOUDFLARE_API_TOKEN": "cf", "CLOUDFLARE_ACCOUNT_ID": "acct"}),
        ("", {}),
    ],
)  # fmt: skip
def test_a_secret_is_a_bare_value_or_a_json_object(raw: str, values: dict[str, str]) -> None:
    assert parse_secret(raw, "ACCESS_TOKEN") == values


def test_a_malformed_secret_is_a_failed_read() -> None:
    cached = CachedSecret("arn", "ACCESS_TOKEN", FakeSecrets(arn="{not json"), ttl=TTL, clock=Clock())
    with pytest.raises(e.InternalServerError):
        cached.values()


def test_the_environment_wins_and_is_never_a_secret_read() -> None:
    secrets = FakeSecrets()
    settings = Settings(
        access_tokens=("env",), cloudflare_account_id="acct", cloudflare_api_token="cf",
        access_token_secret_id="arn:a", cloudflare_secret_id="arn:c",
    )  # fmt: skip
    credentials = Credentials(settings, secrets)
    assert credentials.access_tokens() == ("env",)
    assert credentials.cloudflare().configured
    assert secrets.calls == 0


def test_the_one_secret_layout_is_read_once_for_both_uses() -> None:
    secrets = FakeSecrets(
        arn=json.dumps({"ACCESS_TOKEN": "a,b", "CLOUDFLARE_ACCOUNT_ID": "acct", "CLOUDFLARE_API_TOKEN": "cf"})
    )
    settings = Settings(access_token_secret_id="arn", cloudflare_secret_id="arn", cloudflare_account_id="ctx")
    credentials = Credentials(settings, secrets, clock=Clock())
    assert credentials.access_tokens() == ("a", "b")
    # The account id of the context (environment) wins over the secret's
    assert (credentials.cloudflare().account_id, credentials.cloudflare_api_token()) == ("ctx", "cf")
    assert secrets.calls == 1


# -- the deployed shape: moto's Secrets Manager, the app, the Workers AI client ------------------
@pytest.fixture
def secretsmanager(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from moto import mock_aws

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        import boto3

        yield boto3.client("secretsmanager", region_name="us-east-1")


def deployed(secretsmanager: Any, clock: Clock) -> tuple[Services, str, str]:
    """Services as a deployed function has them: the two secrets (the Cloudflare one still the
    placeholder CDK creates), the account id from context, credentials on `clock`."""
    access = secretsmanager.create_secret(Name="access", SecretString="tok-1")["ARN"]
    cloudflare = secretsmanager.create_secret(Name="cf", SecretString='{"CLOUDFLARE_API_TOKEN": ""}')["ARN"]
    settings = Settings(
        aws_region="us-east-1", cloudflare_account_id="acct", access_token_secret_id=access,
        cloudflare_secret_id=cloudflare, secret_ttl_seconds=TTL,
    )  # fmt: skip
    services = Services(settings)
    # As `Services.credentials` builds it, on the test's clock.
    services.__dict__["credentials"] = Credentials(settings, secrets_manager_fetch(lambda: secretsmanager), clock=clock)
    return services, access, cloudflare


def test_a_rotated_access_token_reaches_a_running_app(secretsmanager: Any) -> None:
    clock = Clock()
    services, access, _ = deployed(secretsmanager, clock)
    client = TestClient(create_app("models", settings=lambda: services.settings, build=lambda _: services))

    def status(token: str) -> int:
        return client.get("/v1/models", headers={"Authorization": f"Bearer {token}"}).status_code

    # Given the token accepted, and the Cloudflare token not yet filled in (a 500 that says so)
    answer = client.get("/v1/models", headers={"Authorization": "Bearer tok-1"})
    assert (answer.status_code, answer.json()["error"]["code"]) == (500, "upstream_not_configured")
    # When the operator rotates the token (old and new accepted for a while, then the new one alone)
    secretsmanager.put_secret_value(SecretId=access, SecretString="tok-2,tok-1")
    assert status("tok-2") == 401  # not before the TTL is up
    clock.now += TTL
    assert (status("tok-2"), status("tok-1")) == (500, 500)
    secretsmanager.put_secret_value(SecretId=access, SecretString="tok-2")
    clock.now += TTL
    assert (status("tok-2"), status("tok-1")) == (500, 401)


def test_a_filled_cloudflare_token_reaches_the_workers_ai_client(secretsmanager: Any) -> None:
    from tests.unit.test_workers_ai_client import FakeSession, ok

    clock = Clock()
    services, _, cloudflare = deployed(secretsmanager, clock)
    # Given the placeholder: not configured
    with pytest.raises(e.InternalServerError, match="not configured"):
        services.workers_ai  # noqa: B018
    # When the operator fills the token in, then within the TTL the client exists and sends it
    secretsmanager.put_secret_value(SecretId=cloudflare, SecretString="cf-1")
    clock.now += TTL
    session = FakeSession(ok({}), ok({}))
    services.workers_ai._session = session  # type: ignore[assignment]
    services.workers_ai.run("@cf/x", {})
    # And a token changed later reaches the same client (services keep it) within the TTL
    secretsmanager.put_secret_value(SecretId=cloudflare, SecretString='{"CLOUDFLARE_API_TOKEN": "cf-2"}')
    clock.now += TTL
    services.workers_ai.run("@cf/x", {})
    assert [call["headers"]["Authorization"] for call in session.calls] == ["Bearer cf-1", "Bearer cf-2"]
    assert session.calls[0]["url"].endswith("/accounts/acct/ai/run/@cf/x")
