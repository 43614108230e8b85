"""The request id, and the last-resort error envelope: both safe whatever a client sends."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from openai_cf.api.app import create_app
from openai_cf.api.middleware import behind_web_adapter, platform_request_id
from openai_cf.api.responses import dumps
from openai_cf.api.sse import encode
from openai_cf.schemas.chat import ChatCompletionMessage
from openai_cf.services.models import ModelRegistry
from openai_cf.settings import Settings

AUTH = {"Authorization": "Bearer t"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"}', "req_c6af9ac67b6111e69a4193e8deadbeef"),
        (b'{"requestId": "abc\\ndef"}', None),
        (b'{"requestId": "a b"}', None),
        (b'{"requestId": ""}', None),
        (json.dumps({"requestId": "a" * 65}).encode(), None),
        (b'{"requestId": 5}', None),
        (b"[1]", None),
        (b"{", None),
        (b"[" * 100_000, None),
        (b'{"requestId": "x", "pad": "' + b"y" * 20_000 + b'"}', None),
    ],
)
def test_platform_request_id_accepts_only_well_formed_ids(raw: bytes, expected: str | None) -> None:
    assert platform_request_id(raw) == expected


def test_the_header_is_trusted_only_behind_the_web_adapter() -> None:
    assert behind_web_adapter({"AWS_LAMBDA_FUNCTION_NAME": "f", "AWS_LWA_INVOKE_MODE": "response_stream"})
    assert not behind_web_adapter({"AWS_LAMBDA_FUNCTION_NAME": "f"})
    assert not behind_web_adapter({})


def test_behind_the_adapter_api_gateways_id_is_the_request_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "openai-cf-models")
    monkeypatch.setenv("AWS_LWA_INVOKE_MODE", "response_stream")
    settings = Settings(access_tokens=("t",))
    client = TestClient(create_app("models", settings=lambda: settings))
    context = {"x-amzn-request-context": '{"requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"}'}
    assert client.get("/v1/models", headers=context).headers["x-request-id"] == "req_c6af9ac67b6111e69a4193e8deadbeef"
    bad = {"x-amzn-request-context": '{"requestId": "c6af\\r\\nx-injected: 1"}'}
    response = client.get("/v1/models", headers=bad)
    assert "x-injected" not in response.headers
    assert len(response.headers["x-request-id"]) == 36


def test_an_unexpected_exception_is_a_500_in_the_envelope(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a bug deep in a service
    def broken(self: ModelRegistry) -> None:
        raise RuntimeError("internal detail: /var/task/secret.py")

    monkeypatch.setattr(ModelRegistry, "list_models", broken)
    settings = Settings(access_tokens=("t",), cloudflare_account_id="a", cloudflare_api_token="k")
    client = TestClient(create_app("models", settings=lambda: settings), raise_server_exceptions=False)
    # When a client calls it
    response = client.get("/v1/models", headers=AUTH)
    # Then it gets OpenAI's envelope as JSON, with the request id and nothing internal
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["type"] == "server_error"
    assert response.headers["x-request-id"] in error["message"]
    assert "internal detail" not in response.text
    assert "RuntimeError" not in response.text


def test_answers_carrying_an_unpaired_surrogate_are_still_valid_json() -> None:
    # Upstream output can hold a lone UTF-16 half (a JSON escape); UTF-8 cannot carry it, JSON escapes can.
    assert json.loads(dumps({"a": "x\ud800é"})) == {"a": "x\ud800é"}
    assert json.loads(dumps(ChatCompletionMessage(content="x\ud800")))["content"] == "x\ud800"
    assert encode({"a": "é"}) == 'data: {"a":"é"}\n\n'.encode()
    assert json.loads(encode({"a": "\udfff"})[6:]) == {"a": "\udfff"}
