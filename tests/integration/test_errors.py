"""Bad input and upstream failures: the right status, OpenAI's envelope with `param`, never a hang."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import pytest
import requests
from openai import OpenAI

from .conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
HI = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def post(base_url: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.post(f"{base_url}{path}", timeout=10, **kwargs)


def assert_envelope(response: requests.Response, status: int, param: str | None = None) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-request-id"].startswith("req_")
    assert "openai-processing-ms" in response.headers
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    if param is not None:
        assert error["param"] == param
    return dict(error)


def test_wrong_token_is_401(base_url: str) -> None:
    with (
        OpenAI(base_url=base_url, api_key="wrong", max_retries=0) as sdk,
        pytest.raises(openai.AuthenticationError) as info,
    ):
        sdk.models.list()
    assert info.value.code == "invalid_api_key"
    assert info.value.request_id


def test_missing_token_is_401_on_every_route(base_url: str) -> None:
    for path in ("/models", "/chat/completions", "/nowhere"):
        response = requests.get(f"{base_url}{path}")
        assert_envelope(response, 401)


def test_missing_field_names_the_param(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user"}])  # type: ignore[typeddict-item]
    assert info.value.param == "messages[0].content"
    assert "Missing required parameter" in info.value.message


def test_mistyped_field_names_the_param(base_url: str) -> None:
    response = post(base_url, "/chat/completions", headers=AUTH, json={**HI, "temperature": "hot"})
    assert_envelope(response, 400, "temperature")


def test_out_of_range_value(base_url: str) -> None:
    response = post(base_url, "/chat/completions", headers=AUTH, json={**HI, "n": 0})
    assert_envelope(response, 400, "n")


def test_unknown_argument_is_refused(base_url: str) -> None:
    response = post(base_url, "/chat/completions", headers=AUTH, json={**HI, "bogus": 1})
    error = assert_envelope(response, 400, "bogus")
    assert "Unrecognized request argument" in error["message"]


def test_empty_messages(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-4o-mini", messages=[])
    assert info.value.param == "messages"


def test_unknown_model_is_404_model_not_found(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "hi"}])
    assert info.value.code == "model_not_found"
    assert info.value.param == "model"


def test_retired_model_is_404_and_says_so(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(
            model="@cf/meta/llama-2-7b-chat-int8", messages=[{"role": "user", "content": "hi"}]
        )
    assert info.value.code == "model_not_found"


def test_oversized_body_is_413(base_url: str) -> None:
    big = "x" * (1024 * 1024 + 10)
    response = post(base_url, "/chat/completions", headers=AUTH,
                    json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": big}]})  # fmt: skip
    assert_envelope(response, 413)


def test_malformed_json_is_400(base_url: str) -> None:
    response = post(base_url, "/chat/completions", headers={**AUTH, "Content-Type": "application/json"}, data=b"{nope")
    assert_envelope(response, 400)


def test_charset_content_type_is_accepted(base_url: str) -> None:
    body = b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}'
    response = post(base_url, "/chat/completions", data=body,
                    headers={**AUTH, "Content-Type": "application/json; charset=utf-8"})  # fmt: skip
    assert response.status_code == 200
    assert response.json()["object"] == "chat.completion"


def test_unknown_route_is_404_and_wrong_method_405(base_url: str) -> None:
    assert_envelope(requests.get(f"{base_url}/nowhere", headers=AUTH), 404)
    assert_envelope(requests.delete(f"{base_url}/chat/completions", headers=AUTH), 405)


def test_upstream_capacity_429_is_a_rate_limit_error_with_retry_after(client: OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "emulate:error=3040"}]
        )
    assert info.value.response.headers.get("retry-after")


def test_daily_quota_tells_the_sdk_not_to_retry(client: OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "emulate:error=3036"}]
        )
    assert info.value.response.headers["x-should-retry"] == "false"
    assert info.value.code == "insufficient_quota"


def test_upstream_bad_input_5006_is_a_400(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "emulate:error=5006"}]
        )
    assert info.value.code == "invalid_request"


def test_upstream_5xx_is_a_502(client: OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "emulate:http=503"}])
    assert info.value.status_code == 502


def test_transient_upstream_failure_is_retried_by_the_bridge(sdk_for: Callable[..., OpenAI]) -> None:
    with sdk_for(upstream_max_retries=2) as sdk:
        completion = sdk.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "emulate:error=3043 emulate:times=1 hi"}],
        )
    assert completion.choices[0].message.content


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-4.1-mini"])
def test_stream_that_breaks_midway_raises_in_the_sdk(client: OpenAI, model: str) -> None:
    # Given an upstream stream that dies after three tokens
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "emulate:tokens=20 emulate:break_after=3"}],
        stream=True,
    )
    # When the SDK iterates, Then it raises instead of ending quietly or hanging
    received = []
    with pytest.raises(openai.APIError, match="ended before the answer was complete"):
        for chunk in stream:
            received.append(chunk)
    assert any(c.choices and c.choices[0].delta.content for c in received)


def test_stream_errors_before_first_byte_are_plain_http_errors(client: OpenAI) -> None:
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "emulate:error=3040"}], stream=True
        )
