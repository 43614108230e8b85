"""The native Workers AI text-generation dialect (llama-3.x, mistral, llama-4-scout, …).

This is part of a development and test double, not Workers AI. Non-stream: `{"response", "tool_calls",
"usage"}`, with `response` an object in JSON mode. Stream: `{"response": tok, "p": pad}` events,
padding-only events, tool calls (whole, or incremental for the nested-shape models), then
`{"response": "", "usage": …}` and `[DONE]`.
"""

from __future__ import annotations

from typing import Any

from .generation import Completion, ToolCall
from .sse import DONE, Event, Padding, with_padding_events


def native_tool_call(call: ToolCall, *, nested: bool) -> dict[str, Any]:
    if nested:
        return {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments},
        }
    return {"name": call.name, "arguments": call.arguments}


def native_result(completion: Completion) -> dict[str, Any]:
    response: Any = completion.text
    if completion.json_mode and not completion.truncated:
        response = completion.json_value
    return {
        "response": response,
        "tool_calls": [native_tool_call(c, nested=completion.nested_tool_calls) for c in completion.tool_calls],
        "usage": completion.usage(details=False),
    }


def _incremental_tool_events(calls: tuple[ToolCall, ...]) -> list[Event]:
    """llama-4-scout style: opening fragment with id/name, the rest of the arguments, a null finaliser."""
    events: list[Event] = []
    for index, call in enumerate(calls):
        text = call.arguments_json
        half = len(text) // 2
        head = {
            "id": call.id,
            "type": "function",
            "index": index,
            "function": {"name": call.name, "arguments": text[:half]},
        }
        events.append(Event({"tool_calls": [head]}, content=True))
        events.append(Event({"tool_calls": [{"index": index, "function": {"arguments": text[half:]}}]}, content=True))
    final = [
        {"id": None, "type": "function", "index": i, "function": {"name": None, "arguments": None}}
        for i in range(len(calls))
    ]
    events.append(Event({"tool_calls": final}))
    return events


def _tool_events(completion: Completion) -> list[Event]:
    calls = completion.tool_calls
    if not calls:
        return []
    if completion.nested_tool_calls:
        return _incremental_tool_events(calls)
    whole = [native_tool_call(call, nested=False) for call in calls]
    return [Event({"response": "", "tool_calls": whole}, content=True)]


def native_events(completion: Completion) -> list[Event]:
    padding = Padding(completion.digest)
    events = [Event({"response": token, "p": padding.next()}, content=True) for token in completion.content]
    events += _tool_events(completion)
    if not completion.tool_calls:
        events.append(Event({"response": "", "tool_calls": [], "p": padding.next()}))
    events.append(Event({"response": "", "usage": completion.usage(details=False)}, tail=True))
    events.append(DONE)
    return with_padding_events(events, padding)
