"""What a step of a run tells a streaming client: the Assistants stream's events, in OpenAI's order.

`RunWorker` reports what it does to a `RunEvents`: each status it gives the run (`moved`), each
chunk of the model's answer (`chunk`), and the outcome's records once its transaction has landed
(`written`). A queued run reports to `NO_EVENTS`; a streaming run to an `EventWriter`, which
turns the reports into events:

    moved                  thread.run.<status> (the Run)
    the answer's text      thread.run.step.created, .in_progress (message_creation),
                           thread.message.created, .in_progress, then thread.message.delta each
    a tool call            thread.run.step.created, .in_progress (tool_calls, none yet), then
                           thread.run.step.delta each fragment (the first has the call's id and name)
    written                thread.message.completed | .incomplete, thread.run.step.completed;
                           nothing for a tool-calls step: it waits for outputs

The step and the message are announced under the ids the outcome will write (derived from the run,
`run_outcome`) before anything is stored, and called complete only once they are. One announced
but never written (the run failed, was cancelled or expired meanwhile) ends as the run did
(`thread.run.step.failed` …, the message `incomplete`); like a queued run's, it is not stored.

Blank text at the start of an answer is held back until the answer shows whether it is a message
or tool calls. A model that writes text and then calls tools keeps only the calls (as a queued run
does): its text was streamed as a message, which ends `incomplete` when the first call arrives.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from openai_cf.schemas.streams import ServerEvent
from openai_cf.services.run_outcome import Move, message_creation, message_record, step_record
from openai_cf.storage.messages import MessageRecord
from openai_cf.storage.run_steps import StepRecord
from openai_cf.storage.runs import FINAL, RunRecord

Emit = Callable[[ServerEvent], None]
# How an announced step ends when the run ends without writing it, and the time that status stamps.
_STEP_END = {"failed": "failed_at", "expired": "expired_at", "cancelled": "cancelled_at"}
_STEP_ERRORS = frozenset({"server_error", "rate_limit_exceeded"})


class RunEvents(Protocol):
    @property
    def streams(self) -> bool:
        """Whether a client reads the answer as it comes (the step then streams the model's answer)."""
        ...

    def moved(self, run: RunRecord) -> None: ...

    def chunk(self, run: RunRecord, chunk: dict[str, Any]) -> None: ...

    def written(self, run: RunRecord, move: Move) -> None: ...


class NoEvents:
    """A queued run's: nobody listens."""

    streams = False

    def moved(self, run: RunRecord) -> None:
        pass

    def chunk(self, run: RunRecord, chunk: dict[str, Any]) -> None:
        pass

    def written(self, run: RunRecord, move: Move) -> None:
        pass


NO_EVENTS = NoEvents()


def _text(value: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": {"value": value, "annotations": []}}]


class EventWriter:
    """A streaming run's events, handed to `emit` as the step reports what it does."""

    streams = True

    def __init__(self, emit: Emit, clock: Callable[[], float] = time.time) -> None:
        self._emit = emit
        self._clock = clock
        # The run as the stream last told it.
        self.last: RunRecord | None = None
        self._reset()

    def _reset(self) -> None:
        # What the current step has announced: its step, its message (a message_creation step's).
        self._step: StepRecord | None = None
        self._message: MessageRecord | None = None
        self._held = ""
        self._sent: list[str] = []
        self._calls: list[dict[str, Any]] = []

    def _send(self, event: str, data: Any) -> None:
        self._emit(ServerEvent(event, data))

    # -- the run ------------------------------------------------------------------------------
    def moved(self, run: RunRecord) -> None:
        now = self._clock()
        wire = run.to_wire(now)
        if wire.status in FINAL and self._step is not None:
            self._abandon(run, wire.status, int(now))
        self._send(f"thread.run.{wire.status}", wire)
        self.last = run

    def ended(self, run: RunRecord) -> None:
        """The run as its step left it, unless the stream has told it so already."""
        if self.last is None or (self.last.version, self.last.status) != (run.version, run.status):
            self.moved(run)

    # -- the answer, as it comes --------------------------------------------------------------
    def chunk(self, run: RunRecord, chunk: dict[str, Any]) -> None:
        for choice in chunk["choices"]:
            if choice["index"] != 0:
                continue
            delta = choice["delta"]
            if delta.get("content"):
                self._text_delta(run, delta["content"])
            for fragment in delta.get("tool_calls") or ():
                self._call_delta(run, fragment)

    def _text_delta(self, run: RunRecord, text: str) -> None:
        if self._step is not None and self._message is None:
            return  # text after tool calls: the calls are the answer, and all that is kept
        if self._message is None:
            self._held += text
            if not self._held.strip():
                return
            text, self._held = self._held, ""
            self._open_message(run)
        self._send_text(text)

    def _send_text(self, text: str) -> None:
        assert self._message is not None
        self._sent.append(text)
        delta = {"content": [{"index": 0, "type": "text", "text": {"value": text, "annotations": []}}]}
        self._send("thread.message.delta", {"id": self._message.id, "object": "thread.message.delta", "delta": delta})

    def _call_delta(self, run: RunRecord, fragment: dict[str, Any]) -> None:
        if self._step is None or self._message is not None:
            self._drop_message()
            self._open_calls(run)
        assert self._step is not None
        index = fragment["index"]
        arguments = (fragment.get("function") or {}).get("arguments") or ""
        if "id" in fragment:
            function = {"name": fragment["function"].get("name") or "", "arguments": arguments, "output": None}
            call = {"id": fragment["id"], "type": "function", "function": function}
            self._calls.append({**call, "function": dict(function)})
            out = {"index": index, **call}
        else:
            self._calls[index]["function"]["arguments"] += arguments
            out = {"index": index, "type": "function", "function": {"arguments": arguments}}
        delta = {"step_details": {"type": "tool_calls", "tool_calls": [out]}}
        self._send("thread.run.step.delta", {"id": self._step.id, "object": "thread.run.step.delta", "delta": delta})

    def _open_message(self, run: RunRecord) -> None:
        self._open_step(step_record(run, "message_creation", "in_progress", message_creation(run)))
        self._message = message_record(run, [], "in_progress")
        self._send("thread.message.created", self._message.to_wire())
        self._send("thread.message.in_progress", self._message.to_wire())

    def _open_calls(self, run: RunRecord) -> None:
        self._open_step(step_record(run, "tool_calls", "in_progress", {"type": "tool_calls", "tool_calls": []}))

    def _open_step(self, step: StepRecord) -> None:
        self._step = step
        self._send("thread.run.step.created", step.to_wire())
        self._send("thread.run.step.in_progress", step.to_wire())

    def _drop_message(self) -> None:
        """Text the model wrote before calling tools: the run keeps the calls only."""
        if self._message is not None:
            ended = replace(self._message, status="incomplete", content=_text("".join(self._sent)),
                            incomplete_at=int(self._clock()))  # fmt: skip
            self._send("thread.message.incomplete", ended.to_wire())
        self._message = None
        self._held = ""
        self._sent = []

    # -- the outcome --------------------------------------------------------------------------
    def written(self, run: RunRecord, move: Move) -> None:
        if move.message is not None and move.step is not None:
            if self._message is None:
                self._open_message(run)  # an answer without text (or blank)
            if self._held:
                self._send_text(self._held)
            self._send(f"thread.message.{move.message.status}", move.message.to_wire())
            self._send("thread.run.step.completed", move.step.to_wire())
        elif move.step is not None and self._step is None:
            self._open_step(move.step)  # calls that never came as fragments
        self._reset()

    def _abandon(self, run: RunRecord, status: str, now: int) -> None:
        """Close what the step announced but never wrote, as the run ended."""
        end = status if status in _STEP_END else "cancelled"
        if self._message is not None:
            ended = replace(self._message, status="incomplete", content=_text("".join(self._sent)),
                            incomplete_at=now, incomplete_details={"reason": f"run_{end}"})  # fmt: skip
            self._send("thread.message.incomplete", ended.to_wire())
        assert self._step is not None
        changes: dict[str, Any] = {"status": end, _STEP_END[end]: now, "last_error": _step_error(run, end)}
        if self._step.type == "tool_calls":
            changes["step_details"] = {"type": "tool_calls", "tool_calls": self._calls}
        step = replace(self._step, **changes)
        self._send(f"thread.run.step.{end}", step.to_wire())
        self._reset()


def _step_error(run: RunRecord, end: str) -> dict[str, Any] | None:
    if end != "failed" or run.last_error is None:
        return None
    code = run.last_error["code"] if run.last_error["code"] in _STEP_ERRORS else "server_error"
    return {"code": code, "message": run.last_error["message"]}
