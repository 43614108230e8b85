"""Hostile input reproduced from the adversarial review: always a 4xx in OpenAI's envelope, or an answer.

Each body here once made the server answer a text/plain 500 (which the SDK retries twice more)
or abort the response.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from openai import OpenAI

from .conftest import TOKEN
from .test_errors import AUTH, HI, assert_envelope, post

JSON = {**AUTH, "Content-Type": "application/json"}


@pytest.mark.parametrize("key", ["clé de cache", "line\nbreak", "x" * 64, "tab\there", "\u2028"])
def test_any_prompt_cache_key_works(client: OpenAI, key: str) -> None:
    # Given a prompt_cache_key that is not a valid header value (it is sent as x-session-affinity)
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "emulate:echo cached"}], prompt_cache_key=key
    )
    # Then the request is answered as any other
    assert completion.choices[0].message.content == "cached"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_constants_are_refused_at_parse_time(base_url: str, constant: str) -> None:
    body = f'{{"model": "gpt-4o-mini", "temperature": {constant}, "messages": [{{"role": "user", "content": "hi"}}]}}'
    error = assert_envelope(post(base_url, "/chat/completions", headers=JSON, data=body.encode()), 400)
    assert "JSON" in error["message"]


@pytest.mark.parametrize("depth", [100_000, 65])
def test_deeply_nested_bodies_are_400(base_url: str, depth: int) -> None:
    # Given a body nested far deeper than any request (100,000 `[` once exhausted the parser's stack)
    nested = "[" * depth + "]" * depth
    body = f'{{"model": "gpt-4o-mini", "messages": [{{"role": "user", "content": "hi"}}], "metadata": {nested}}}'
    # Then it is a 400, not a crash
    assert_envelope(post(base_url, "/chat/completions", headers=JSON, data=body.encode()), 400)


def test_nesting_within_the_limit_still_reaches_validation(base_url: str) -> None:
    nested: Any = "leaf"
    for _ in range(30):
        nested = {"type": "object", "properties": {"x": nested}}
    tool = {"type": "function", "function": {"name": "deep", "parameters": nested}}
    response = post(base_url, "/chat/completions", headers=AUTH, json={**HI, "tools": [tool]})
    assert response.status_code != 500


@pytest.mark.parametrize("context", [b"[1]", b'{"requestId": "abc\\ndef"}', b'{"requestId": 5}', b"{", b'"x"'])
def test_client_sent_request_context_is_ignored(base_url: str, context: bytes) -> None:
    # Given a client that sends the header the Lambda Web Adapter sets (outside Lambda: never trusted)
    for headers in ({"x-amzn-request-context": context}, {**AUTH, "x-amzn-request-context": context}):
        response = requests.post(f"{base_url}/chat/completions", json=HI, headers=headers, timeout=10)
        # Then auth and the answer proceed as usual, with a request id of our own
        assert response.status_code in (200, 401)
        assert response.headers["content-type"].startswith("application/json")
        request_id = response.headers["x-request-id"]
        assert request_id.startswith("req_")
        assert len(request_id) == 36


def test_a_client_request_id_is_not_echoed_even_when_well_formed(base_url: str) -> None:
    context = json.dumps({"requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"}).encode()
    response = requests.post(
        f"{base_url}/chat/completions", json=HI, headers={**AUTH, "x-amzn-request-context": context}, timeout=10
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] != "req_c6af9ac67b6111e69a4193e8deadbeef"


def test_bearer_is_required_whatever_the_headers(base_url: str) -> None:
    response = requests.get(f"{base_url}/models", headers={"x-amzn-request-context": b"[1]"}, timeout=10)
    assert_envelope(response, 401)
    assert TOKEN not in response.text


def test_an_unpaired_surrogate_is_refused_but_an_escaped_pair_is_text(base_url: str) -> None:
    # Given message text written as JSON escapes: a lone UTF-16 half, and a proper pair (an emoji)
    lone = b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "emulate:echo x\\ud800y"}]}'
    pair = b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "emulate:echo \\ud83d\\ude00"}]}'
    # Then the lone half is a 400 (it is not text, and once crashed the echoed answer's encoding)
    assert_envelope(post(base_url, "/chat/completions", headers=JSON, data=lone), 400)
    # And the pair is the character it encodes
    response = post(base_url, "/chat/completions", headers=JSON, data=pair)
    assert response.json()["choices"][0]["message"]["content"] == "\U0001f600"
