"""A streamed chat answer put back together: the `ChatCompletion` that `ChatService.create` would
have answered, built from the `chat.completion.chunk`s `ChatService.stream` yielded.

A streaming run shows each chunk to its client as it comes and hands the whole answer to
`run_outcome.Outcomes.of`, exactly as a queued run hands it the answer of `create`: the records it
writes are then the same whichever way the run went. The rules are `ChatService.create`'s: the
text is every content delta joined, tool calls keep the id and name of their first delta and the
arguments of all of them, `content` is null for calls without text, and usage is the stream's
final usage chunk (ask for it with `stream_options.include_usage`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from openai_cf.schemas import chat as c
from openai_cf.schemas.common import CompletionUsage


@dataclass
class _Call:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class ChunkCollector:
    """Feed it every chunk of one stream (`add`), then ask for the answer (`completion`)."""

    def __init__(self) -> None:
        self._head: dict[str, Any] = {}
        self._text: list[str] = []
        self._calls: dict[int, _Call] = {}
        self._finish: str | None = None
        self._usage: dict[str, Any] | None = None

    def add(self, chunk: dict[str, Any]) -> None:
        self._head = chunk
        if chunk.get("usage"):
            self._usage = chunk["usage"]
        for choice in chunk["choices"]:
            if choice["index"] != 0:
                continue  # runs ask for one answer; `create` would have put others beside it
            delta = choice["delta"]
            if delta.get("content"):
                self._text.append(delta["content"])
            for fragment in delta.get("tool_calls") or ():
                self._call(fragment)
            if choice.get("finish_reason"):
                self._finish = choice["finish_reason"]

    def _call(self, fragment: dict[str, Any]) -> None:
        call = self._calls.setdefault(fragment["index"], _Call())
        function = fragment.get("function") or {}
        call.id = fragment.get("id") or call.id
        call.name = function.get("name") or call.name
        if function.get("arguments"):
            call.arguments.append(function["arguments"])

    def completion(self) -> c.ChatCompletion:
        calls = [
            c.ChatCompletionMessageFunctionToolCall(
                id=call.id, function=c.Function(name=call.name, arguments="".join(call.arguments))
            )
            for _, call in sorted(self._calls.items())
        ]
        text = "".join(self._text)
        message = c.ChatCompletionMessage(content=None if calls and not text else text, tool_calls=calls or None)
        choice = c.Choice.model_validate({"index": 0, "message": message, "finish_reason": self._finish or "stop"})
        return c.ChatCompletion(
            id=self._head.get("id", ""), created=self._head.get("created", 0), model=self._head.get("model", ""),
            choices=[choice], usage=CompletionUsage.model_validate(self._usage) if self._usage else None,
        )  # fmt: skip
