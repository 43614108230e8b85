"""The OpenAI `chat.completion` dialect that vLLM-served models speak on `/ai/run`.

This is part of a development and test double, not Workers AI. Non-stream: a `chat.completion`
object. Stream: `chat.completion.chunk` events (role, reasoning, content or tool-call deltas, a
finish chunk, a `choices: []` usage chunk), then the native terminal usage event that `/ai/run`
appends, then `[DONE]`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .generation import Completion, ToolCall
from .sse import DONE, Event

_FRAGMENT = 12  # characters of tool-call arguments per streamed delta


@dataclass(frozen=True)
class Stamp:
    """The id and creation time shared by a completion and all its chunks."""

    id: str
    created: int


def openai_tool_call(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments_json},
    }


def openai_result(completion: Completion, stamp: Stamp) -> dict[str, Any]:
    message = {
        "role": "assistant",
        "content": None if completion.tool_calls else completion.text,
        "reasoning_content": "".join(completion.reasoning) or None,
        "tool_calls": [openai_tool_call(call) for call in completion.tool_calls],
    }
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": completion.finish_reason}
    return {
        "id": stamp.id,
        "object": "chat.completion",
        "created": stamp.created,
        "model": completion.model,
        "choices": [choice],
        "usage": completion.usage(details=True),
    }


def _chunk(completion: Completion, stamp: Stamp, choices: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": stamp.id,
        "object": "chat.completion.chunk",
        "created": stamp.created,
        "model": completion.model,
        "choices": choices,
    }


def _delta(completion: Completion, stamp: Stamp, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return _chunk(completion, stamp, [choice])


def _tool_deltas(completion: Completion, stamp: Stamp) -> list[Event]:
    events: list[Event] = []
    for index, call in enumerate(completion.tool_calls):
        opening = {
            "index": index,
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        events.append(Event(_delta(completion, stamp, {"tool_calls": [opening]}), content=True))
        text = call.arguments_json
        for start in range(0, len(text), _FRAGMENT):
            fragment = {"index": index, "function": {"arguments": text[start : start + _FRAGMENT]}}
            events.append(Event(_delta(completion, stamp, {"tool_calls": [fragment]}), content=True))
    return events


def openai_events(completion: Completion, stamp: Stamp) -> list[Event]:
    events = [Event(_delta(completion, stamp, {"role": "assistant", "content": ""}))]
    events += [Event(_delta(completion, stamp, {"reasoning_content": t})) for t in completion.reasoning]
    events += [Event(_delta(completion, stamp, {"content": t}), content=True) for t in completion.content]
    events += _tool_deltas(completion, stamp)
    events.append(Event(_delta(completion, stamp, {}, completion.finish_reason), tail=True))
    usage = completion.usage(details=True)
    events.append(Event({**_chunk(completion, stamp, []), "usage": usage}, tail=True))
    events.append(Event({"response": "", "usage": usage}, tail=True))
    events.append(DONE)
    return events
