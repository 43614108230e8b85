from __future__ import annotations

import json

import pytest

from openai_cf.errors import BadGatewayError
from openai_cf.workers_ai.sse import DONE, iter_events
from openai_cf.workers_ai.text import (
    Finish,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
    UsageReport,
    parse_result,
    parse_stream,
)


def sse(*events: object, done: bool = True) -> list[bytes]:
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + ("data: [DONE]\n\n" if done else "")
    raw = body.encode()
    # Deliberately awkward chunking: events split mid-line.
    return [raw[i : i + 7] for i in range(0, len(raw), 7)]


def test_iter_events_handles_split_chunks_comments_and_crlf() -> None:
    chunks = [b': ping\r\n\r\ndata: {"a"', b": 1}\r\n\r\n", b"data: [DONE]\n\n"]
    assert list(iter_events(chunks)) == [{"a": 1}, DONE]


def test_native_stream_ignores_padding_and_keeps_last_usage() -> None:
    # Given a native-dialect stream with padding-only events and a terminal usage event
    chunks = sse(
        {"response": "New", "p": "abc"},
        {"p": "padding only"},
        {"response": " York", "p": "x"},
        {"response": "", "tool_calls": [], "p": "y"},
        {"response": "", "usage": {"prompt_tokens": 20, "completion_tokens": 2, "total_tokens": 22}},
    )
    # When parsed
    events = list(parse_stream(iter_events(chunks)))
    # Then text arrives in order and the usage is reported
    assert events == [TextDelta("New"), TextDelta(" York"), UsageReport(Usage(20, 2))]


def test_openai_dialect_stream_with_reasoning_tools_and_finish() -> None:
    chunk = {"id": "x", "object": "chat.completion.chunk"}
    chunks = sse(
        {**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
        {**chunk, "choices": [{"index": 0, "delta": {"reasoning_content": "Hmm"}}]},
        {
            **chunk,
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "t1",
                                "type": "function",
                                "function": {"name": "f", "arguments": '{"a"'},
                            }
                        ]
                    },
                }
            ],
        },
        {
            **chunk,
            "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": ":1}"}}]}}],
        },
        {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        {**chunk, "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 3}},
        {"response": "", "usage": {"prompt_tokens": 5, "completion_tokens": 4}},
    )
    events = list(parse_stream(iter_events(chunks)))
    assert events == [
        ReasoningDelta("Hmm"),
        ToolCallDelta(0, "f", '{"a"'),
        ToolCallDelta(0, None, ":1}"),
        Finish("tool_calls"),
        UsageReport(Usage(5, 3)),
        UsageReport(Usage(5, 4)),
    ]


def test_native_whole_and_incremental_tool_calls() -> None:
    chunks = sse(
        {"response": "", "tool_calls": [{"name": "add", "arguments": {"a": 1}}]},
        {"tool_calls": [{"id": "abc", "type": "function", "index": 1, "function": {"name": "g", "arguments": "{}"}}]},
        {"tool_calls": [{"id": None, "type": "function", "index": 1, "function": {"name": None, "arguments": None}}]},
    )
    events = list(parse_stream(iter_events(chunks)))
    assert events == [ToolCallDelta(0, "add", '{"a":1}'), ToolCallDelta(1, "g", "{}")]


def test_truncated_stream_raises() -> None:
    # Given a stream that breaks off without [DONE] or a finish reason
    chunks = sse({"response": "Hel"}, done=False)
    # When it is read, Then the bridge reports a broken upstream rather than a short answer
    with pytest.raises(BadGatewayError):
        list(parse_stream(iter_events(chunks)))


def test_parse_result_native_json_mode_object_and_flat_tool_calls() -> None:
    generation = parse_result(
        {
            "response": {"a": 1},
            "tool_calls": [{"name": "f", "arguments": {"x": "y"}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 4},
        }
    )
    assert generation.text == '{"a": 1}'
    assert generation.tool_calls[0].name == "f"
    assert generation.tool_calls[0].arguments == '{"x":"y"}'
    assert generation.usage == Usage(3, 4)


def test_parse_result_chat_completion() -> None:
    generation = parse_result(
        {
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "length",
                    "message": {"role": "assistant", "content": "hi", "reasoning_content": "r"},
                }
            ],
            "usage": {
                "prompt_tokens": 1,
                "completion_tokens": 2,
                "prompt_tokens_details": {"cached_tokens": 1},
            },
        }
    )
    assert (generation.text, generation.reasoning, generation.finish_reason) == ("hi", "r", "length")
    assert generation.usage == Usage(1, 2, 1)
