"""CORS in the app: headers for allowed origins on every answer, the local preflight, off by default."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from openai_cf.api.app import create_app
from openai_cf.api.cors import EXPOSED_HEADERS
from openai_cf.schemas.models import ModelList
from openai_cf.services.models import ModelRegistry
from openai_cf.settings import Settings, SettingsError, settings_from_env

ALLOWED = "https://app.example"
AUTH = {"Authorization": "Bearer t"}


@pytest.fixture(autouse=True)
def _no_upstream(monkeypatch: pytest.MonkeyPatch) -> None:
    # The model list without Workers AI: these tests are about headers.
    monkeypatch.setattr(ModelRegistry, "list_models", lambda self: ModelList(data=[]))


def _client(*origins: str, function: str | None = "models") -> TestClient:
    settings = Settings(
        access_tokens=("t",), cloudflare_account_id="a", cloudflare_api_token="k", cors_allowed_origins=origins
    )
    return TestClient(create_app(function, settings=lambda: settings), raise_server_exceptions=False)


def _preflight(client: TestClient, origin: str, path: str = "/v1/models") -> dict[str, str]:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization, x-stainless-os",
    }
    response = client.options(path, headers=headers)
    return {"status": str(response.status_code), **response.headers}


def test_an_allowed_origin_reads_the_answer_and_its_headers() -> None:
    # Given CORS on for one origin
    client = _client(ALLOWED)
    # When the browser app calls the API
    response = client.get("/v1/models", headers={**AUTH, "Origin": ALLOWED})
    # Then it may read the answer and the headers the SDK needs
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert response.headers["vary"] == "Origin"
    exposed = {h.strip() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"x-request-id", "openai-poll-after-ms", "retry-after"} <= exposed == set(EXPOSED_HEADERS)


def test_errors_carry_the_headers_too() -> None:
    client = _client(ALLOWED)
    # A wrong key: the browser must see the 401 envelope, not an opaque CORS failure
    denied = client.get("/v1/models", headers={"Authorization": "Bearer wrong", "Origin": ALLOWED})
    assert denied.status_code == 401
    assert denied.headers["access-control-allow-origin"] == ALLOWED
    assert denied.json()["error"]["code"] == "invalid_api_key"


def test_the_last_resort_500_carries_the_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: ModelRegistry) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(ModelRegistry, "list_models", broken)
    response = _client(ALLOWED).get("/v1/models", headers={**AUTH, "Origin": ALLOWED})
    assert response.status_code == 500
    assert response.headers["access-control-allow-origin"] == ALLOWED


def test_another_origin_gets_no_cors_headers() -> None:
    client = _client(ALLOWED)
    response = client.get("/v1/models", headers={**AUTH, "Origin": "https://evil.example"})
    # Then the API still answers (CORS is the browser's rule), but grants the other site nothing
    assert response.status_code == 200
    assert not any(name.startswith("access-control-") for name in response.headers)
    # And its preflight is not answered: it meets the bearer check like any request
    assert _preflight(client, "https://evil.example")["status"] == "401"


def test_the_preflight_is_answered_locally_without_a_key() -> None:
    # Given every route mounted, as `openai-cf serve` does
    answer = _preflight(_client(ALLOWED, function=None), ALLOWED, "/v1/chat/completions")
    # Then the browser may send the SDK's request, with its key and its own headers
    assert answer["status"] == "204"
    assert answer["access-control-allow-origin"] == ALLOWED
    assert set(answer["access-control-allow-methods"].split(", ")) == {"GET", "POST", "DELETE", "OPTIONS"}
    assert answer["access-control-allow-headers"] == "Authorization, *"
    assert int(answer["access-control-max-age"]) > 0


def test_a_wildcard_allows_every_origin_without_vary() -> None:
    response = _client("*").get("/v1/models", headers={**AUTH, "Origin": "https://any.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "vary" not in response.headers


def test_off_by_default() -> None:
    # Given no origins configured (the default)
    client = _client()
    # Then no answer grants anything, and OPTIONS is not a way around the key
    response = client.get("/v1/models", headers={**AUTH, "Origin": ALLOWED})
    assert not any(name.startswith("access-control-") for name in response.headers)
    assert _preflight(client, ALLOWED)["status"] == "401"


def test_origins_come_from_the_environment() -> None:
    env = {"OPENAI_CF_CORS_ALLOWED_ORIGINS": "https://a.example, http://localhost:5173/"}
    assert settings_from_env(env).cors_allowed_origins == ("https://a.example", "http://localhost:5173")
    assert settings_from_env({}).cors_allowed_origins == ()
    with pytest.raises(SettingsError, match="OPENAI_CF_CORS_ALLOWED_ORIGINS"):
        settings_from_env({"OPENAI_CF_CORS_ALLOWED_ORIGINS": "app.example"})
