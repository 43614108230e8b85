"""Text-generation answers from Workers AI, in either dialect, as one neutral shape.

`parse_result` reads a non-streamed `result` (native `{"response", "tool_calls", "usage"}` or an
OpenAI `chat.completion`); `parse_stream` turns either SSE dialect into `Event`s. The dialect is
detected per answer/event, never assumed from the model name (workers-ai-contract 3, 14).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from openai_cf.errors import BadGatewayError
from openai_cf.workers_ai.sse import DONE


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0

    @classmethod
    def parse(cls, raw: Any) -> Usage | None:
        if not isinstance(raw, dict):
            return None
        details = raw.get("prompt_tokens_details") or {}
        return cls(
            prompt_tokens=int(raw.get("prompt_tokens") or 0),
            completion_tokens=int(raw.get("completion_tokens") or 0),
            cached_tokens=int(details.get("cached_tokens") or 0) if isinstance(details, dict) else 0,
        )


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: str


@dataclass
class Generation:
    text: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    # Only the OpenAI dialect reports one; native answers leave the bridge to decide.
    finish_reason: str | None = None
    usage: Usage | None = None


# -- stream events ---------------------------------------------------------------------------
@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ReasoningDelta:
    text: str


@dataclass(frozen=True)
class ToolCallDelta:
    """A fragment of tool call `index`; `name` is set on the first fragment of each call."""

    index: int
    name: str | None
    arguments: str


@dataclass(frozen=True)
class Finish:
    reason: str


@dataclass(frozen=True)
class UsageReport:
    usage: Usage


Event = TextDelta | ReasoningDelta | ToolCallDelta | Finish | UsageReport


def _arguments(raw: Any) -> str:
    if raw is None:
        return ""
    return raw if isinstance(raw, str) else json.dumps(raw, separators=(",", ":"))


def _function_of(raw: dict[str, Any]) -> dict[str, Any]:
    """Tool calls come flat (`{name, arguments}`) or nested (`{id, type, function: {…}}`)."""
    nested = raw.get("function")
    return nested if isinstance(nested, dict) else raw


def _tool_call(raw: dict[str, Any]) -> ToolCall | None:
    function = _function_of(raw)
    name = function.get("name")
    if not name:
        return None
    return ToolCall(name=str(name), arguments=_arguments(function.get("arguments")))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        # JSON mode on classic models answers with an object, not a string.
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def parse_result(result: Any) -> Generation:
    if not isinstance(result, dict):
        raise BadGatewayError("Workers AI answered with an unexpected result shape.")
    if isinstance(result.get("choices"), list):
        return _parse_chat_completion(result)
    calls = [c for c in (_tool_call(raw) for raw in result.get("tool_calls") or [] if isinstance(raw, dict)) if c]
    return Generation(text=_text(result.get("response")), tool_calls=calls, usage=Usage.parse(result.get("usage")))


def _parse_chat_completion(result: dict[str, Any]) -> Generation:
    choices = result["choices"]
    if not choices:
        return Generation(usage=Usage.parse(result.get("usage")))
    choice = choices[0]
    message = choice.get("message") or {}
    calls = [c for c in (_tool_call(raw) for raw in message.get("tool_calls") or [] if isinstance(raw, dict)) if c]
    return Generation(
        text=_text(message.get("content")),
        reasoning=_text(message.get("reasoning_content") or message.get("reasoning")),
        tool_calls=calls,
        finish_reason=choice.get("finish_reason"),
        usage=Usage.parse(result.get("usage")),
    )


def generation_events(generation: Generation) -> Iterator[Event]:
    """A whole answer as events, for streams that came back as JSON (or JSON mode)."""
    if generation.reasoning:
        yield ReasoningDelta(generation.reasoning)
    if generation.text:
        yield TextDelta(generation.text)
    for index, call in enumerate(generation.tool_calls):
        yield ToolCallDelta(index, call.name, call.arguments)
    if generation.finish_reason:
        yield Finish(generation.finish_reason)
    if generation.usage:
        yield UsageReport(generation.usage)


class _StreamState:
    def __init__(self) -> None:
        self.whole_calls = 0
        self.finished = False


def parse_stream(events: Iterable[Any]) -> Iterator[Event]:
    """Events of one upstream stream. Raises `BadGatewayError` if it ends without `[DONE]` or a
    finish reason (a torn stream must not look like a short answer)."""
    state = _StreamState()
    saw_done = False
    for event in events:
        if event is DONE:
            saw_done = True
            break
        if not isinstance(event, dict):
            continue
        if isinstance(event.get("choices"), list):
            yield from _chunk_events(event, state)
        else:
            yield from _native_events(event, state)
    if not saw_done and not state.finished:
        raise BadGatewayError("The Workers AI stream ended before the answer was complete.")


def _native_events(event: dict[str, Any], state: _StreamState) -> Iterator[Event]:
    text = event.get("response")
    if text not in (None, ""):
        yield TextDelta(str(text))
    for raw in event.get("tool_calls") or []:
        if isinstance(raw, dict):
            yield from _native_tool_call(raw, state)
    if isinstance(event.get("finish_reason"), str):
        state.finished = True
        yield Finish(event["finish_reason"])
    usage = Usage.parse(event.get("usage"))
    if usage:
        yield UsageReport(usage)


def _native_tool_call(raw: dict[str, Any], state: _StreamState) -> Iterator[Event]:
    function = _function_of(raw)
    arguments = function.get("arguments")
    if "index" in raw and (arguments is None or isinstance(arguments, str)):
        # Incremental form: fragments by index; the final chunk with null fields ends the call.
        if function.get("name") is None and not arguments:
            return
        yield ToolCallDelta(int(raw["index"]), function.get("name") or None, arguments or "")
        return
    call = _tool_call(raw)
    if call:
        yield ToolCallDelta(state.whole_calls, call.name, call.arguments)
        state.whole_calls += 1


def _chunk_events(event: dict[str, Any], state: _StreamState) -> Iterator[Event]:
    for choice in event["choices"][:1]:
        delta = choice.get("delta") or {}
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if reasoning:
            yield ReasoningDelta(str(reasoning))
        if delta.get("content"):
            yield TextDelta(str(delta["content"]))
        for raw in delta.get("tool_calls") or []:
            function = raw.get("function") or {}
            if function.get("name") or function.get("arguments"):
                index = int(raw.get("index", 0))
                yield ToolCallDelta(index, function.get("name") or None, _arguments(function.get("arguments")))
        if choice.get("finish_reason"):
            state.finished = True
            yield Finish(str(choice["finish_reason"]))
    usage = Usage.parse(event.get("usage"))
    if usage:
        yield UsageReport(usage)
