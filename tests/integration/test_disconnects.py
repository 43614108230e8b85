"""No work after the client has gone: every phase of a request, seen from the upstream's side.

The emulator's journal records, for a request tagged `emulate:tag=NAME`, how many events it sent
and whether its client (our bridge) went away before the end. Each test makes the upstream slow
enough that only an early abandonment can end the visit within the wait.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

import openai
import pytest
from openai import OpenAI

from openai_cf.local.emulator.journal import Journal
from tests.integration.conftest import TOKEN

# Far longer than any wait below: a visit that ends within a wait was abandoned, not finished.
SLOW_MS = 20_000


def _tag() -> str:
    return uuid.uuid4().hex[:12]


def _impatient(base_url: str) -> OpenAI:
    return OpenAI(base_url=base_url, api_key=TOKEN, max_retries=0, timeout=0.5)


def test_non_streaming_call_is_abandoned_when_the_client_gives_up(base_url: str, journal: Journal) -> None:
    # Given a generation that takes 20 s upstream
    tag = _tag()
    content = f"emulate:delay_ms={SLOW_MS} emulate:tag={tag} hi"
    # When the client gives up after 0.5 s
    with _impatient(base_url) as sdk, pytest.raises(openai.APITimeoutError):
        sdk.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": content}])
    # Then the bridge drops its upstream call at once instead of waiting for the answer
    visit = journal.wait(tag, timeout=5)
    assert visit.abandoned


def test_stream_is_abandoned_before_its_first_byte(base_url: str, journal: Journal) -> None:
    tag = _tag()
    content = f"emulate:delay_ms={SLOW_MS} emulate:tag={tag} hi"
    with _impatient(base_url) as sdk, pytest.raises(openai.APITimeoutError):
        sdk.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": content}], stream=True)
    visit = journal.wait(tag, timeout=5)
    assert visit.abandoned
    assert visit.events_sent == 0


def test_stream_is_abandoned_mid_stream_without_waiting_for_the_next_token(client: OpenAI, journal: Journal) -> None:
    # Given an upstream that sends a token, then stays silent for 20 s before each next one
    tag = _tag()
    content = f"emulate:tokens=5 emulate:token_delay_ms={SLOW_MS} emulate:tag={tag}"
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": content}], stream=True
    )
    # When the client reads the first content and leaves
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            break
    stream.close()
    # Then the upstream connection is closed during the silence, not after the next token
    visit = journal.wait(tag, timeout=5)
    assert visit.abandoned
    assert visit.events_sent == 1


WORDS = " ".join(f"w{i}" for i in range(200))


@pytest.mark.parametrize("leave_after_finish", [False, True])
def test_bridge_enforced_stop_closes_the_upstream_at_once(
    client: OpenAI, journal: Journal, leave_after_finish: bool
) -> None:
    # Given a 200-token answer paced 100 ms apart (20 s in all), with a stop sequence at token 3
    tag = _tag()
    content = f"emulate:echo emulate:token_delay_ms=100 emulate:tag={tag} {WORDS}"
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": content}],
        stop=[" w3"],
        stream=True,
        stream_options={"include_usage": True},
    )
    # When the client reads to the end (or leaves right after the finish chunk)
    text, finish, usage = "", None, None
    for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
            if finish and leave_after_finish:
                break
        usage = chunk.usage or usage
    stream.close()
    # Then the answer ends at the stop, and the upstream stream was closed there, not read to its end
    assert text == "w0 w1 w2"
    assert finish == "stop"
    visit = journal.wait(tag, timeout=5)
    assert visit.abandoned
    assert visit.events_sent < 10
    if not leave_after_finish:
        # and usage counts what was generated up to the cut (our estimate of the prompt)
        assert usage is not None
        assert 3 <= usage.completion_tokens < 10
        assert usage.prompt_tokens > 0


def _post_and_wait(base_url: str, content: str) -> socket.socket:
    """A client that sends a chat request and then waits on the open connection."""
    url = urlsplit(base_url)
    body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]}).encode()
    head = (
        f"POST {url.path}/chat/completions HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    sock = socket.create_connection((url.hostname or "127.0.0.1", url.port or 80))
    sock.sendall(head.encode() + body)
    return sock


def test_slow_generations_do_not_hold_up_other_routes(sdk_for: Callable[..., OpenAI], journal: Journal) -> None:
    # Given 70 clients waiting on 20 s generations (more than one route's thread pool holds)
    sdk = sdk_for()
    tags = [_tag() for _ in range(70)]
    clients = [
        _post_and_wait(str(sdk.base_url).rstrip("/"), f"emulate:delay_ms={SLOW_MS} emulate:tag={t}") for t in tags
    ]
    try:
        for tag in tags[:60]:
            journal.wait_opened(tag, timeout=10)
        # When another client lists the models
        models = sdk.models.list()
        # Then it is answered while every slow generation is still running
        assert models.data
        assert not any(journal.ended(tag) for tag in tags)
    finally:
        for client in clients:
            client.close()
    # And when those clients give up, their upstream calls are dropped too
    assert all(journal.wait(tag, timeout=10).abandoned for tag in tags[:60])
