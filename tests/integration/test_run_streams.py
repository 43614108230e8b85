"""Streaming runs through the official SDK: `runs.stream()` / `create_and_run_stream()` /
`submit_tool_outputs_stream()` with a real `AssistantEventHandler`, `stream=True` on the plain
calls, and the raw SSE framing. The run is worked on inline, in the request; what it stores is
checked against what the stream said."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import openai
import pytest
import requests
from openai import AssistantEventHandler, OpenAI
from openai.types.beta import AssistantStreamEvent
from openai.types.beta.threads import Message, Text, TextDelta
from openai.types.beta.threads.runs import RunStep, ToolCall

from openai_cf.local.emulator.journal import Journal
from tests.contract.validate import assert_matches

from .test_runs import POLL, V2, WEATHER, thread_with, wait_for

TEXT_RUN = [
    "thread.run.created", "thread.run.queued", "thread.run.in_progress", "thread.run.step.created",
    "thread.run.step.in_progress", "thread.message.created", "thread.message.in_progress",
]  # fmt: skip
TEXT_END = ["thread.message.completed", "thread.run.step.completed", "thread.run.completed"]


class Collector(AssistantEventHandler):
    """Every callback the SDK makes, in order, with the time text deltas arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[AssistantStreamEvent] = []
        self.deltas: list[tuple[float, str]] = []
        self.calls: list[str] = []
        self.messages_done: list[Message] = []
        self.steps_done: list[RunStep] = []
        self.tools_created: list[ToolCall] = []
        self.ended = False

    def on_event(self, event: AssistantStreamEvent) -> None:
        self.events.append(event)

    def on_text_delta(self, delta: TextDelta, snapshot: Text) -> None:
        self.deltas.append((time.monotonic(), delta.value or ""))
        self.calls.append("text_delta")

    def on_message_done(self, message: Message) -> None:
        self.messages_done.append(message)
        self.calls.append("message_done")

    def on_run_step_done(self, run_step: RunStep) -> None:
        self.steps_done.append(run_step)
        self.calls.append("run_step_done")

    def on_tool_call_created(self, tool_call: ToolCall) -> None:
        self.tools_created.append(tool_call)
        self.calls.append("tool_call_created")

    def on_end(self) -> None:
        self.ended = True

    @property
    def names(self) -> list[str]:
        return [event.event for event in self.events]


def without_deltas(names: list[str]) -> list[str]:
    return [name for name in names if not name.endswith(".delta")]


@pytest.fixture
def assistant_id(client: OpenAI) -> str:
    return client.beta.assistants.create(model="gpt-4o-mini", instructions="Be brief.", tools=[WEATHER]).id  # type: ignore[list-item]


def test_a_streamed_run_sends_every_event_in_order_and_stores_what_it_said(client: OpenAI, assistant_id: str) -> None:
    # Given a thread whose answer comes a token every 80 ms
    thread_id = thread_with(client, "emulate:tokens=6 emulate:token_delay_ms=80 Tell me something")
    # When the run is streamed to an event handler
    handler = Collector()
    with client.beta.threads.runs.stream(thread_id=thread_id, assistant_id=assistant_id, event_handler=handler) as s:
        s.until_done()
    # Then every event came, in OpenAI's order, the text as deltas as they were generated
    assert without_deltas(handler.names) == TEXT_RUN + TEXT_END
    assert handler.names.count("thread.message.delta") == len(handler.deltas) > 1
    first, last = handler.deltas[0][0], handler.deltas[-1][0]
    assert last - first >= 0.08 * (len(handler.deltas) - 1) * 0.5
    assert handler.ended
    assert handler.calls[-2:] == ["message_done", "run_step_done"]
    # And what the stream said is what is stored
    run = handler.get_final_run()
    stored_run = client.beta.threads.runs.retrieve(run.id, thread_id=thread_id)
    assert (run.status, stored_run) == ("completed", run)
    assert run.usage is not None
    assert run.usage.completion_tokens == 6
    (message,) = handler.get_final_messages()
    (stored,) = client.beta.threads.messages.list(thread_id, run_id=run.id)
    assert stored == message
    assert stored.content[0].text.value == "".join(text for _, text in handler.deltas)  # type: ignore[union-attr]
    # (the SDK keeps a step's snapshot from its creation: the completed step is the last event's)
    (step,) = handler.steps_done
    assert list(client.beta.threads.runs.steps.list(run.id, thread_id=thread_id)) == [step]
    assert step.step_details.message_creation.message_id == message.id  # type: ignore[union-attr]
    # And the thread takes the next run
    assert client.beta.threads.runs.create_and_poll(
        thread_id=thread_id, assistant_id=assistant_id, poll_interval_ms=POLL
    ).status == "completed"  # fmt: skip


def test_tool_calls_stream_to_requires_action_and_the_outputs_stream_on(client: OpenAI, assistant_id: str) -> None:
    # Given a question the model answers by calling a tool
    thread_id = thread_with(client, "emulate:tool=get_weather Weather in Paris?")
    handler = Collector()
    # When the run is streamed
    with client.beta.threads.runs.stream(thread_id=thread_id, assistant_id=assistant_id, event_handler=handler) as s:
        s.until_done()
    # Then the stream ends at requires_action, with the call told as a tool-calls step's deltas
    names = handler.names
    assert without_deltas(names) == [
        "thread.run.created", "thread.run.queued", "thread.run.in_progress", "thread.run.step.created",
        "thread.run.step.in_progress", "thread.run.requires_action",
    ]  # fmt: skip
    assert "thread.run.step.delta" in names
    (created,) = handler.tools_created
    run = handler.get_final_run()
    assert run.status == "requires_action"
    assert run.required_action is not None
    (call,) = run.required_action.submit_tool_outputs.tool_calls
    assert (created.id, created.function.name) == (call.id, "get_weather")  # type: ignore[union-attr]
    (step,) = handler.get_final_run_steps()
    assert step.step_details.tool_calls[0].function.arguments == call.function.arguments  # type: ignore[union-attr]
    assert client.beta.threads.runs.retrieve(run.id, thread_id=thread_id) == run
    # When the output is submitted as a stream
    after = Collector()
    with client.beta.threads.runs.submit_tool_outputs_stream(
        run_id=run.id, thread_id=thread_id, tool_outputs=[{"tool_call_id": call.id, "output": "22C and sunny"}],
        event_handler=after,
    ) as s:  # fmt: skip
        s.until_done()
    # Then the tool step completes, and the run goes on to an answer made from the output
    assert without_deltas(after.names) == ["thread.run.step.completed", "thread.run.queued", *TEXT_RUN[2:], *TEXT_END]
    done_step = after.steps_done[0]
    assert done_step.step_details.tool_calls[0].function.output == "22C and sunny"  # type: ignore[union-attr]
    (answer,) = after.get_final_messages()
    assert "22C and sunny" in answer.content[0].text.value  # type: ignore[union-attr]
    # And the stored steps are the ones the streams told
    steps = list(client.beta.threads.runs.steps.list(run.id, thread_id=thread_id, order="asc"))
    assert steps == [done_step, after.steps_done[1]]
    assert client.beta.threads.runs.retrieve(run.id, thread_id=thread_id).status == "completed"


def test_create_and_run_stream_makes_the_thread_first(client: OpenAI, assistant_id: str) -> None:
    handler = Collector()
    with client.beta.threads.create_and_run_stream(
        assistant_id=assistant_id, thread={"messages": [{"role": "user", "content": "emulate:echo Hello there"}]},
        event_handler=handler,
    ) as s:  # fmt: skip
        s.until_done()
    assert without_deltas(handler.names) == ["thread.created", *TEXT_RUN, *TEXT_END]
    thread = handler.events[0].data
    run = handler.get_final_run()
    assert run.thread_id == thread.id
    texts = [m.content[0].text.value for m in client.beta.threads.messages.list(thread.id, order="asc")]  # type: ignore[union-attr]
    assert texts == ["emulate:echo Hello there", "Hello there"]


def test_a_failing_model_fails_the_streamed_run(client: OpenAI, assistant_id: str) -> None:
    thread_id = thread_with(client, "emulate:error=3036 out of quota")
    handler = Collector()
    with client.beta.threads.runs.stream(thread_id=thread_id, assistant_id=assistant_id, event_handler=handler) as s:
        s.until_done()
    assert handler.names == ["thread.run.created", "thread.run.queued", "thread.run.in_progress", "thread.run.failed"]
    run = handler.get_final_run()
    assert run.last_error is not None
    assert run.last_error.code == "rate_limit_exceeded"
    assert client.beta.threads.runs.retrieve(run.id, thread_id=thread_id) == run


def test_a_stream_torn_mid_answer_fails_the_run_and_ends_what_it_began(client: OpenAI, assistant_id: str) -> None:
    # Given an upstream that breaks off after two tokens
    thread_id = thread_with(client, "emulate:tokens=8 emulate:break_after=2 go")
    handler = Collector()
    with client.beta.threads.runs.stream(thread_id=thread_id, assistant_id=assistant_id, event_handler=handler) as s:
        s.until_done()
    # Then the message begun ends incomplete, its step failed, and the run failed: nothing stored
    assert without_deltas(handler.names)[-3:] == [
        "thread.message.incomplete", "thread.run.step.failed", "thread.run.failed",
    ]  # fmt: skip
    run = handler.get_final_run()
    assert run.last_error is not None
    assert run.last_error.code == "server_error"
    assert list(client.beta.threads.messages.list(thread_id, run_id=run.id)) == []
    assert list(client.beta.threads.runs.steps.list(run.id, thread_id=thread_id)) == []


def test_stream_true_on_the_plain_calls(client: OpenAI, assistant_id: str) -> None:
    thread_id = thread_with(client, "emulate:tool=get_weather Weather?")
    with client.beta.threads.runs.create(thread_id=thread_id, assistant_id=assistant_id, stream=True) as stream:
        events = list(stream)
    assert events[-1].event == "thread.run.requires_action"
    run = events[-1].data
    call = run.required_action.submit_tool_outputs.tool_calls[0]  # type: ignore[union-attr]
    with client.beta.threads.runs.submit_tool_outputs(
        run.id, thread_id=thread_id, tool_outputs=[{"tool_call_id": call.id, "output": "sunny"}], stream=True
    ) as stream:  # fmt: skip
        assert [e.event for e in stream][-1] == "thread.run.completed"
    with client.beta.threads.create_and_run(
        assistant_id=assistant_id, stream=True, thread={"messages": [{"role": "user", "content": "hi"}]}
    ) as stream:  # fmt: skip
        names = [e.event for e in stream]
    assert (names[0], names[-1]) == ("thread.created", "thread.run.completed")


SCHEMAS = {
    "thread.run": "RunObject", "thread.run.step": "RunStepObject", "thread.message": "MessageObject",
    "thread.run.step.delta": "RunStepDeltaObject", "thread.message.delta": "MessageDeltaObject",
}  # fmt: skip
TOOL_RUN = [*TEXT_RUN[:5], "thread.run.requires_action"]


@pytest.mark.parametrize(("content", "expected"), [("emulate:tokens=3 hi", [*TEXT_RUN, *TEXT_END]),
                                                   ("emulate:tool=get_weather hi", TOOL_RUN)])  # fmt: skip
def test_the_raw_stream_is_named_events_ending_with_done(
    base_url: str, client: OpenAI, assistant_id: str, content: str, expected: list[str]
) -> None:
    # Given a run streamed by hand
    thread_id = thread_with(client, content)
    answer = requests.post(f"{base_url}/threads/{thread_id}/runs", json={"assistant_id": assistant_id, "stream": True},
                           headers=V2, stream=True, timeout=10)  # fmt: skip
    # Then it is an event stream of `event:` / `data:` pairs
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    blocks = [block for block in answer.text.split("\n\n") if block and not block.startswith(":")]
    lines = [[tuple(line.split(": ", 1)) for line in block.split("\n")] for block in blocks]
    assert all([key for key, _ in block] == ["event", "data"] for block in lines), blocks
    pairs = [(block[0][1], block[1][1]) for block in lines]
    assert without_deltas([name for name, _ in pairs]) == [*expected, "done"]
    assert pairs[-1] == ("done", "[DONE]")
    # And every payload has OpenAI's shape
    for name, data in pairs[:-1]:
        schema = SCHEMAS.get(name) or SCHEMAS[name.rsplit(".", 1)[0]]
        assert_matches(schema, json.loads(data))


def test_a_busy_thread_refuses_a_stream_before_its_first_byte(client: OpenAI, assistant_id: str) -> None:
    thread_id = thread_with(client, "emulate:delay_ms=3000 slow")
    first = client.beta.threads.runs.create(thread_id=thread_id, assistant_id=assistant_id)
    with pytest.raises(openai.BadRequestError) as refused:
        client.beta.threads.runs.create(thread_id=thread_id, assistant_id=assistant_id, stream=True)
    assert first.id in refused.value.message
    client.beta.threads.runs.cancel(first.id, thread_id=thread_id)
    assert wait_for(client, thread_id, first.id, "cancelled").status == "cancelled"


def test_a_run_cancelled_while_it_streams_ends_cancelled(client: OpenAI, assistant_id: str) -> None:
    # Given a streaming run whose answer is slow
    thread_id = thread_with(client, "emulate:tokens=50 emulate:token_delay_ms=200 slow")
    handler = Collector()
    with client.beta.threads.runs.stream(thread_id=thread_id, assistant_id=assistant_id, event_handler=handler) as s:
        for event in s:
            # When another client cancels it once its text has begun
            if event.event == "thread.message.delta":
                assert handler.current_run is not None
                client.beta.threads.runs.cancel(handler.current_run.id, thread_id=thread_id)
                break
        s.until_done()
    # Then the stream says what became of the step and the message, and ends cancelled
    assert without_deltas(handler.names)[-4:] == [
        "thread.run.cancelling", "thread.message.incomplete", "thread.run.step.cancelled", "thread.run.cancelled",
    ]  # fmt: skip
    run = handler.get_final_run()
    assert client.beta.threads.runs.retrieve(run.id, thread_id=thread_id).status == "cancelled"
    assert list(client.beta.threads.messages.list(thread_id, run_id=run.id)) == []


def test_a_client_that_leaves_stops_the_model_and_the_executor_ends_the_run(
    base_url: str, client: OpenAI, assistant_id: str, journal: Journal
) -> None:
    # Given a streaming run whose model sends a token every 300 ms
    tag = uuid.uuid4().hex[:12]
    thread_id = thread_with(client, f"emulate:tokens=8 emulate:token_delay_ms=300 emulate:tag={tag} go")
    stream = client.beta.threads.runs.create(thread_id=thread_id, assistant_id=assistant_id, stream=True)
    run_id = ""
    # When the client reads the first text and leaves
    for event in stream:
        if event.event == "thread.run.created":
            run_id = event.data.id
        if event.event == "thread.message.delta":
            break
    inline = journal.wait_opened(tag)
    stream.close()
    # Then the inline generation is abandoned at once
    assert inline.ended.wait(3)
    assert inline.abandoned
    # And the run executor takes the run over and completes it, once
    run = wait_for(client, thread_id, run_id, "completed", timeout=15)
    assert run.status == "completed"
    assert len(list(client.beta.threads.messages.list(thread_id, run_id=run_id))) == 1
    assert len(list(client.beta.threads.runs.steps.list(run_id, thread_id=thread_id))) == 1


def test_streamed_and_queued_runs_store_the_same_records(client: OpenAI, assistant_id: str) -> None:
    # Given two threads asking the same
    text = "emulate:tokens=7 What now?"
    queued_thread, streamed_thread = thread_with(client, text), thread_with(client, text)
    # When one run is queued and the other streamed
    queued = client.beta.threads.runs.create_and_poll(
        thread_id=queued_thread, assistant_id=assistant_id, poll_interval_ms=POLL
    )
    handler = Collector()
    with client.beta.threads.runs.stream(
        thread_id=streamed_thread, assistant_id=assistant_id, event_handler=handler
    ) as s:  # fmt: skip
        s.until_done()
    streamed = handler.get_final_run()
    # Then they stored the same: the run's outcome, the message, the step
    assert (streamed.status, streamed.usage) == (queued.status, queued.usage)

    def stored(thread_id: str, run_id: str) -> tuple[Any, Any]:
        (message,) = client.beta.threads.messages.list(thread_id, run_id=run_id)
        (step,) = client.beta.threads.runs.steps.list(run_id, thread_id=thread_id)
        return (
            message.model_dump(include={"role", "status", "content", "assistant_id", "incomplete_details"}),
            step.model_dump(include={"type", "status", "usage", "last_error"}),
        )

    assert stored(streamed_thread, streamed.id) == stored(queued_thread, queued.id)
