from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from openai_cf import errors as e
from openai_cf.workers_ai.client import BinaryResult, UpstreamStream, WorkersAIClient
from openai_cf.workers_ai.errors import CODE_RULES, parse_failure


def make_response(
    status: int, body: Any, *, content_type: str = "application/json", headers: dict[str, str] | None = None
) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response.raw = io.BytesIO(raw)
    response.headers = CaseInsensitiveDict({"Content-Type": content_type, **(headers or {})})
    return response


def failure(code: int, status: int, *, headers: dict[str, str] | None = None) -> requests.Response:
    body = {
        "success": False,
        "errors": [{"code": code, "message": f"upstream says {code}"}],
        "messages": [],
        "result": None,
    }
    return make_response(status, body, headers=headers)


def ok(result: Any) -> requests.Response:
    return make_response(200, {"success": True, "result": result, "errors": [], "messages": []})


class FakeSession:
    def __init__(self, *responses: requests.Response | Exception) -> None:
        self.responses = list(responses)
        self.calls: list[dict[str, Any]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        self.calls.append({"method": method, "url": url, **kwargs})
        item = self.responses.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


def client(session: FakeSession, sleeps: list[float], **kwargs: Any) -> WorkersAIClient:
    return WorkersAIClient(
        base_url="https://api.cloudflare.com/client/v4", account_id="acct", api_token="tok",
        session=session, sleep=sleeps.append, jitter=lambda: 0.0, **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip


def test_run_posts_model_path_unencoded_and_returns_result() -> None:
    session = FakeSession(ok({"response": "hi"}))
    result = client(session, []).run("@cf/meta/llama-3.3-70b-instruct-fp8-fast", {"prompt": "x"})
    assert result == {"response": "hi"}
    call = session.calls[0]
    assert (
        call["url"]
        == "https://api.cloudflare.com/client/v4/accounts/acct/ai/run/@cf/meta/llama-3.3-70b-instruct-fp8-fast"
    )
    assert call["headers"]["Authorization"] == "Bearer tok"
    assert call["timeout"] == (5.0, 120.0)


def test_ai_gateway_url_takes_model_directly() -> None:
    session = FakeSession(ok({}))
    WorkersAIClient(
        base_url="https://gateway.ai.cloudflare.com/v1/acct/gw/workers-ai",
        account_id="acct",
        api_token="t",
        session=session,
    ).run("@cf/x/y", {})  # type: ignore[arg-type]
    assert session.calls[0]["url"] == "https://gateway.ai.cloudflare.com/v1/acct/gw/workers-ai/@cf/x/y"


def test_ai_gateway_catalogue_calls_go_to_the_cloudflare_api() -> None:
    session = FakeSession(ok({"input": {}, "output": {}}))
    gateway = WorkersAIClient(
        base_url="https://gateway.ai.cloudflare.com/v1/acct/gw/workers-ai", account_id="acct", api_token="t",
        session=session,  # type: ignore[arg-type]
    )  # fmt: skip
    gateway.model_schema("@cf/x/y")
    assert session.calls[0]["url"] == "https://api.cloudflare.com/client/v4/accounts/acct/ai/models/schema"


def test_http_200_with_success_false_is_an_error() -> None:
    session = FakeSession(make_response(200, {"success": False, "errors": [{"code": 5006, "message": "Bad input"}]}))
    with pytest.raises(e.InvalidRequestError, match="Bad input"):
        client(session, []).run("@cf/m/x", {})


def test_capacity_errors_are_retried_with_backoff_then_succeed() -> None:
    sleeps: list[float] = []
    session = FakeSession(failure(3040, 429), failure(3040, 429), ok({"response": "ok"}))
    assert client(session, sleeps).run("@cf/m/x", {}) == {"response": "ok"}
    assert sleeps == [0.5, 1.0]


def test_retry_after_is_honoured() -> None:
    sleeps: list[float] = []
    session = FakeSession(failure(3040, 429, headers={"Retry-After": "3"}), ok({}))
    client(session, sleeps).run("@cf/m/x", {})
    assert sleeps == [3.0]


def test_daily_quota_3036_is_never_retried_and_tells_the_sdk_not_to() -> None:
    sleeps: list[float] = []
    session = FakeSession(failure(3036, 429))
    with pytest.raises(e.RateLimitError) as info:
        client(session, sleeps).run("@cf/m/x", {})
    assert sleeps == []
    assert info.value.headers()["x-should-retry"] == "false"


def test_server_errors_give_up_after_max_retries() -> None:
    sleeps: list[float] = []
    session = FakeSession(
        make_response(502, b"Bad Gateway", content_type="text/plain"), *(failure(3043, 500) for _ in range(2))
    )
    with pytest.raises(e.BadGatewayError):
        client(session, sleeps).run("@cf/m/x", {})
    assert len(session.calls) == 3
    assert len(sleeps) == 2


def test_timeout_408_is_retried_once() -> None:
    sleeps: list[float] = []
    session = FakeSession(failure(3007, 408), failure(3007, 408), ok({}))
    with pytest.raises(e.GatewayTimeoutError):
        client(session, sleeps).run("@cf/m/x", {})
    assert len(session.calls) == 2


def test_connection_refused_is_retried_then_reported() -> None:
    refused = requests.ConnectionError("Failed to establish a new connection: [Errno 111] Connection refused")
    session = FakeSession(refused, refused, refused)
    with pytest.raises(e.BadGatewayError, match="could not be reached"):
        client(session, []).run("@cf/m/x", {})
    assert len(session.calls) == 3


def test_read_timeout_is_not_retried() -> None:
    session = FakeSession(requests.ReadTimeout("slow"))
    with pytest.raises(e.GatewayTimeoutError):
        client(session, []).run("@cf/m/x", {})
    assert len(session.calls) == 1


def test_binary_output_is_returned_as_bytes() -> None:
    session = FakeSession(make_response(200, b"\x89PNG", content_type="image/png"))
    result = client(session, []).run("@cf/m/img", {})
    assert result == BinaryResult(b"\x89PNG", "image/png")


def test_stream_returns_events_or_falls_back_to_json() -> None:
    body = b'data: {"response":"a"}\n\ndata: [DONE]\n\n'
    session = FakeSession(make_response(200, body, content_type="text/event-stream"), ok({"response": "whole"}))
    c = client(session, [])
    opened = c.stream("@cf/m/x", {"prompt": "p"})
    assert isinstance(opened, UpstreamStream)
    assert session.calls[0]["json"]["stream"] is True
    assert [ev for ev in opened if isinstance(ev, dict)] == [{"response": "a"}]
    assert c.stream("@cf/m/x", {"prompt": "p"}) == {"response": "whole"}


# Every documented Workers AI error code → what the OpenAI SDK sees (workers-ai-contract section 2 and 14).
DOCUMENTED = [
    (5007, 400, 404, "model_not_found"),
    (3042, 404, 404, "model_not_found"),
    (5028, 400, 404, "model_not_found"),
    (5004, 400, 400, "invalid_data"),
    (5006, 400, 400, "invalid_request"),
    (8001, 400, 400, "invalid_request"),
    (8005, 400, 400, "invalid_image"),
    (3039, 400, 400, "finetune_missing_files"),
    (3003, 400, 500, "upstream_incomplete_request"),
    (5018, 403, 403, "model_not_allowed"),
    (3041, 403, 403, "model_not_allowed"),
    (5016, 403, 403, "model_agreement_required"),
    (3023, 403, 403, "account_blocked"),
    (5035, 403, 403, "workers_paid_required"),
    (5019, 405, 500, "upstream_sdk_deprecated"),
    (5005, 405, 400, "lora_unsupported"),
    (3006, 413, 413, "request_too_large"),
    (3007, 408, 504, "upstream_timeout"),
    (3008, 408, 502, "upstream_aborted"),
    (3036, 429, 429, "insufficient_quota"),
    (4006, 429, 429, "insufficient_quota"),
    (3040, 429, 429, "rate_limit_exceeded"),
    (7000, 404, 500, "upstream_route_error"),
    (7001, 405, 500, "upstream_route_error"),
    (7003, 404, 500, "upstream_route_error"),
    (10000, 401, 500, "upstream_auth_failed"),
    (2009, 401, 500, "upstream_auth_failed"),
    (2021, 402, 403, "upstream_billing"),
]


@pytest.mark.parametrize(("code", "upstream_status", "status", "openai_code"), DOCUMENTED)
def test_error_table(code: int, upstream_status: int, status: int, openai_code: str) -> None:
    error = parse_failure(upstream_status, {"errors": [{"code": code, "message": "m"}]}, None).to_error(model="m")
    assert (error.status, error.code) == (status, openai_code)
    assert error.to_dict().keys() == {"message", "type", "param", "code"}


def test_every_rule_is_in_the_documented_table() -> None:
    assert set(CODE_RULES) == {row[0] for row in DOCUMENTED}


def test_misconfiguration_never_leaks_upstream_text() -> None:
    error = parse_failure(
        401, {"errors": [{"code": 10000, "message": "Authentication error for token abc"}]}, None
    ).to_error()
    assert "abc" not in error.message


@pytest.mark.parametrize(("status", "expected"), [(500, 502), (503, 502), (429, 429), (400, 400), (418, 502)])
def test_status_fallback_without_code(status: int, expected: int) -> None:
    assert parse_failure(status, "oops", None).to_error().status == expected


def test_code_only_in_message_is_found() -> None:
    failure_ = parse_failure(400, {"errors": [{"message": "AiError: 5028 This model was deprecated"}]}, None)
    assert failure_.code == 5028


def test_session_affinity_header_only_when_asked() -> None:
    session = FakeSession(ok({}), ok({}))
    c = client(session, [])
    c.run("@cf/m/x", {}, session="conv-1")
    c.run("@cf/m/x", {})
    assert session.calls[0]["headers"]["x-session-affinity"] == "conv-1"
    assert "x-session-affinity" not in session.calls[1]["headers"]


def sent_affinity(key: str) -> str:
    session = FakeSession(ok({"response": "hi"}))
    client(session, []).run("@cf/meta/llama-3.3-70b-instruct-fp8-fast", {"prompt": "x"}, session=key)
    return str(session.calls[0]["headers"]["x-session-affinity"])


def test_plain_prompt_cache_keys_are_sent_as_they_are() -> None:
    assert sent_affinity("user-42:chat.7_a") == "user-42:chat.7_a"


@pytest.mark.parametrize("key", ["line\nbreak", "☃ snow", " leading", "trailing\t", "a space", "x" * 129])
def test_other_prompt_cache_keys_are_sent_as_their_digest(key: str) -> None:
    # Given a key requests or http.client would refuse in a header (a 500 before)
    # When a run carries it
    # Then its SHA-256 goes instead, the same for the same key
    assert sent_affinity(key) == hashlib.sha256(key.encode()).hexdigest()


def test_capacity_429_without_retry_after_still_gives_the_client_a_hint() -> None:
    # Given a 3040 answer that named no Retry-After
    error = parse_failure(429, {"success": False, "errors": [{"code": 3040, "message": "busy"}]}, None).to_error()
    # Then the client is still told when to retry, and one Workers AI named wins
    assert error.headers()["retry-after"] == "2"
    named = parse_failure(429, {"success": False, "errors": [{"code": 3040, "message": "busy"}]}, 7.0).to_error()
    assert named.headers()["retry-after"] == "7"
    # And the daily quota (3036) still says not to retry at all
    quota = parse_failure(429, {"success": False, "errors": [{"code": 3036, "message": "quota"}]}, None).to_error()
    assert "retry-after" not in quota.headers()
    assert quota.headers()["x-should-retry"] == "false"
