"""Stream edge cases the SDK must survive: JSON answers to stream requests, keep-alives, reasoning."""

from __future__ import annotations

from collections.abc import Callable

from openai import OpenAI


def test_upstream_json_answer_to_a_stream_request_still_streams(client: OpenAI) -> None:
    # Given a model that answers `stream: true` with plain JSON (as gpt-oss sometimes does)
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "emulate:stream_json emulate:echo whole"}],
            stream=True,
        )
    )
    # Then the SDK still receives chunks, not silence
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "whole"
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_reasoning_is_returned_separately(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4.1-mini", messages=[{"role": "user", "content": "emulate:reasoning emulate:echo answer"}]
    )
    message = completion.choices[0].message
    assert message.content == "answer"
    assert getattr(message, "reasoning_content", None)


def test_keepalive_comments_during_silence_are_invisible_to_the_sdk(sdk_for: Callable[..., OpenAI]) -> None:
    # Given an upstream that pauses 300 ms between tokens and a 50 ms keep-alive interval
    messages = [{"role": "user", "content": "emulate:echo slow words emulate:token_delay_ms=300"}]
    with sdk_for(sse_keepalive_seconds=0.05) as sdk:
        # When the SDK iterates the stream, and when the raw body is read
        chunks = list(sdk.chat.completions.create(model="gpt-4o-mini", messages=messages, stream=True))  # type: ignore[arg-type]
        with sdk.chat.completions.create(model="gpt-4o-mini", messages=messages, stream=True) as stream:  # type: ignore[arg-type]
            raw = b"".join(stream.response.iter_bytes())
    # Then the SDK sees only the answer, while keep-alives were on the wire
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "slow words"
    assert b": keep-alive" in raw
    assert raw.rstrip().endswith(b"data: [DONE]")
