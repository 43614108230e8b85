"""Streaming runs against moto with a scripted model (no network): the events in OpenAI's order,
the records a streamed run stores (a queued run's), tool rounds, failures before and during the
answer, a client that leaves, storage trouble after the first byte, and the rebuilt answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from openai_cf import cancel
from openai_cf import errors as e
from openai_cf.schemas import chat as c
from openai_cf.schemas.runs import RunSubmitToolOutputsParams, ThreadCreateAndRunParams
from openai_cf.schemas.streams import ServerEvent
from openai_cf.services.chat_chunks import ChunkCollector
from openai_cf.services.run_ledger import RunLedger
from openai_cf.storage.pages import PageRequest
from openai_cf.storage.table import Table
from tests.unit.moto_table import table
from tests.unit.run_world import WEATHER, ScriptedChat, Torn, World, completion, tool_call

__all__ = ["table"]

OPENING = ["thread.run.created", "thread.run.queued", "thread.run.in_progress"]
MESSAGE = ["thread.run.step.created", "thread.run.step.in_progress", "thread.message.created",
           "thread.message.in_progress"]  # fmt: skip
DONE = ["thread.message.completed", "thread.run.step.completed", "thread.run.completed"]


def names(events: list[ServerEvent]) -> list[str]:
    return [event.event for event in events]


def newest_run(world: World, thread_id: str) -> Any:
    return world.runs.page(thread_id, PageRequest(limit=1, order="desc")).items[0]


def without_deltas(events: list[ServerEvent]) -> list[str]:
    return [name for name in names(events) if not name.endswith(".delta")]


def texts(events: list[ServerEvent]) -> list[str]:
    return [event.data["delta"]["content"][0]["text"]["value"] for event in events
            if event.event == "thread.message.delta"]  # fmt: skip


def stream(world: World, *texts: str, **params: Any) -> tuple[str, list[ServerEvent]]:
    """A thread with `texts`, a streamed run on it, and every event it sent."""
    thread_id = world.thread(*texts or ("Hi",))
    events = list(world.streams.create(thread_id, world.run_params(**params), owner="key_1"))
    return thread_id, events


def test_a_streamed_answer_tells_every_event_in_order(table: Table) -> None:
    # Given a model that answers in words
    world = World(table, ScriptedChat(completion("Paris is the capital.", usage=(20, 5))))
    # When the run is streamed
    thread_id, events = stream(world, "Capital of France?")
    # Then the events came in OpenAI's order, the text as one delta per chunk
    assert without_deltas(events) == OPENING + MESSAGE + DONE
    assert texts(events) == ["Paris", " is", " the", " capital."]
    # And the model was asked for a stream, with its usage
    (request,) = world.chat.requests
    assert request.stream and request.stream_options and request.stream_options.include_usage
    # And the step and message it announced are the ones stored, under the same ids
    run_id = events[0].data.id
    (message,) = world.run_messages(thread_id, run_id)
    (step,) = world.run_steps_of(run_id)
    by_name = {event.event: event.data for event in events}
    assert by_name["thread.message.created"].id == message.id
    assert by_name["thread.run.step.created"].id == step.id
    assert by_name["thread.message.completed"] == message.to_wire()
    assert by_name["thread.run.step.completed"] == step.to_wire()
    assert by_name["thread.run.completed"] == world.run(thread_id, run_id).to_wire(world.clock())
    assert message.content[0]["text"]["value"] == "".join(texts(events))
    # And the thread is free for the next run
    assert world.runs.active_run_id(thread_id) is None


def test_a_streamed_run_stores_what_a_queued_run_stores(table: Table) -> None:
    # Given one model answer, and two threads asking for it
    world = World(table, ScriptedChat(completion("The same answer.", usage=(14, 4))))
    queued_thread, queued_run = world.start("Same question")
    world.worker.execute(world.queue.sent[0])
    # When the second thread's run is streamed
    streamed_thread, events = stream(world, "Same question")
    streamed_run = events[0].data.id

    def records(thread_id: str, run_id: str) -> tuple[object, ...]:
        run = world.run(thread_id, run_id)
        (message,) = world.run_messages(thread_id, run_id)
        (step,) = world.run_steps_of(run_id)
        return (run.status, run.usage, run.incomplete_details, message.content, message.status, step.type,
                step.status, step.usage, step.created_at == message.created_at)  # fmt: skip

    # Then the same was stored
    assert records(streamed_thread, streamed_run) == records(queued_thread, queued_run)


def test_an_answer_cut_by_its_budget_streams_to_incomplete(table: Table) -> None:
    world = World(table, ScriptedChat(completion("Once upon", finish="length", usage=(9, 256))))
    _, events = stream(world, "A long story", max_completion_tokens=256)
    assert without_deltas(events)[-3:] == ["thread.message.incomplete", "thread.run.step.completed",
                                           "thread.run.incomplete"]  # fmt: skip


def test_tool_calls_stream_as_step_deltas_then_the_outputs_stream_on(table: Table) -> None:
    # Given a model that calls a tool, then answers with its output
    world = World(table, ScriptedChat(tool_call(("get_weather", '{"city":"Paris"}')), completion("Sunny.")))
    thread_id, events = stream(world, "Weather?", assistant_id=world.assistant(tools=[WEATHER]))
    # Then the stream tells a tool-calls step, its call in fragments, and ends at requires_action
    assert without_deltas(events) == [*OPENING, "thread.run.step.created", "thread.run.step.in_progress",
                                      "thread.run.requires_action"]  # fmt: skip
    created = next(event.data for event in events if event.event == "thread.run.step.created")
    assert (created.type, created.step_details.tool_calls) == ("tool_calls", [])
    first, more = (event.data for event in events if event.event == "thread.run.step.delta")
    (call,) = first["delta"]["step_details"]["tool_calls"]
    assert call == {"index": 0, "id": call["id"], "type": "function",
                    "function": {"name": "get_weather", "arguments": "", "output": None}}  # fmt: skip
    assert more["delta"]["step_details"]["tool_calls"] == [
        {"index": 0, "type": "function", "function": {"arguments": '{"city":"Paris"}'}}
    ]
    # And the run waits for the call the stream named, its step stored in progress
    run = world.run(thread_id, events[0].data.id)
    assert run.required_action["submit_tool_outputs"]["tool_calls"][0]["id"] == call["id"]  # type: ignore[index]
    (step,) = world.run_steps_of(run.id)
    assert (step.id, step.status) == (created.id, "in_progress")
    # When the output is submitted as a stream
    outputs = RunSubmitToolOutputsParams.model_validate({"tool_outputs": [{"tool_call_id": call["id"],
                                                                          "output": "22C"}]})  # fmt: skip
    after = list(world.streams.submit_tool_outputs(thread_id, run.id, outputs))
    # Then the tool step completes, and the run goes on inline to its answer (nothing was queued)
    assert without_deltas(after) == ["thread.run.step.completed", "thread.run.queued", "thread.run.in_progress",
                                     *MESSAGE, *DONE]  # fmt: skip
    assert after[0].data.step_details.tool_calls[0].function.output == "22C"
    assert world.queue.sent == []
    assert [s.type for s in world.run_steps_of(run.id)] == ["tool_calls", "message_creation"]


def test_blank_text_before_tool_calls_is_no_message(table: Table) -> None:
    answer = tool_call(("get_weather", "{}"))
    answer.choices[0].message.content = "\n\n"
    world = World(table, ScriptedChat(answer))
    _, events = stream(world, "Weather?", assistant_id=world.assistant(tools=[WEATHER]))
    assert "thread.message.created" not in names(events)
    assert names(events)[-1] == "thread.run.requires_action"


def test_text_then_tool_calls_keeps_the_calls_as_a_queued_run_does(table: Table) -> None:
    # Given a model that says something, then calls a tool
    answer = tool_call(("get_weather", "{}"))
    answer.choices[0].message.content = "Let me look."
    world = World(table, ScriptedChat(answer))
    thread_id, events = stream(world, "Weather?", assistant_id=world.assistant(tools=[WEATHER]))
    # Then the text streamed as a message, which ends incomplete when the call begins
    assert without_deltas(events) == [*OPENING, *MESSAGE, "thread.message.incomplete", "thread.run.step.created",
                                      "thread.run.step.in_progress", "thread.run.requires_action"]  # fmt: skip
    ended = next(event.data for event in events if event.event == "thread.message.incomplete")
    assert ended.content[0].text.value == "Let me look."
    # And only the call is stored
    run_id = events[0].data.id
    assert world.run_messages(thread_id, run_id) == []
    assert [s.type for s in world.run_steps_of(run_id)] == ["tool_calls"]


def test_an_answer_without_text_still_tells_its_message(table: Table) -> None:
    world = World(table, ScriptedChat(completion("")))
    _, events = stream(world)
    assert names(events) == OPENING + MESSAGE + DONE


def test_a_model_that_refuses_fails_the_run_in_the_stream(table: Table) -> None:
    world = World(table, ScriptedChat(e.RateLimitError("Capacity temporarily exceeded")))
    thread_id, events = stream(world)
    assert names(events) == [*OPENING, "thread.run.failed"]
    failed = events[-1].data
    assert (failed.last_error.code, failed.usage) == ("rate_limit_exceeded", None)
    assert world.run(thread_id, failed.id).status == "failed"


@pytest.mark.parametrize(
    ("error", "counted"),
    [
        (e.RateLimitError("Capacity temporarily exceeded"), True),
        (e.BadGatewayError("Workers AI could not be reached."), True),
        (e.InvalidRequestError("Too many tokens", code="invalid_request"), False),
    ],
)
def test_a_streamed_runs_upstream_failure_is_counted_as_the_apis(
    table: Table, error: e.OpenAICFError, counted: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a model call that fails inside a streamed run (the HTTP answer itself is a 200 stream)
    world = World(table, ScriptedChat(error))
    with caplog.at_level("WARNING", logger="openai_cf.upstream"):
        _, events = stream(world)
    assert names(events)[-1] == "thread.run.failed"
    # Then a failure of Workers AI itself counts in UpstreamErrors (service=api); a refused request does not
    lines = [r for r in caplog.records if r.name == "openai_cf.upstream"]
    assert len(lines) == (1 if counted else 0)
    if counted:
        record: Any = lines[0]
        assert (record.metrics, record.dimensions, record.service) == ({"UpstreamErrors": 1}, ("service",), "api")


def test_an_answer_torn_midway_ends_its_step_and_message_and_fails_the_run(table: Table) -> None:
    world = World(table, ScriptedChat(Torn("Half an", e.BadGatewayError("The Workers AI stream broke off."))))
    thread_id, events = stream(world)
    assert without_deltas(events) == [*OPENING, *MESSAGE, "thread.message.incomplete", "thread.run.step.failed",
                                      "thread.run.failed"]  # fmt: skip
    message, step, run = (event.data for event in events[-3:])
    assert (message.status, message.incomplete_details.reason, message.content[0].text.value) == (
        "incomplete", "run_failed", "Half an")  # fmt: skip
    assert (step.status, step.last_error.code, step.failed_at) == ("failed", "server_error", run.failed_at)
    # And nothing of it was stored
    assert world.run_messages(thread_id, run.id) == []
    assert world.run_steps_of(run.id) == []


def test_a_run_cancelled_by_the_api_while_streaming(table: Table) -> None:
    # Given a model that stalls after its first words, until its call is cancelled
    world = World(table)
    began = threading.Event()

    def stall(params: object) -> c.ChatCompletion:
        began.set()
        cancel.sleep(10)
        return completion()

    world.chat.answers = [stall]  # type: ignore[list-item]
    thread_id = world.thread("Hi")
    events: list[ServerEvent] = []
    reader = threading.Thread(
        target=lambda: events.extend(world.streams.create(thread_id, world.run_params(), owner="key_1"))
    )
    reader.start()
    assert began.wait(5)
    # When another client cancels the run
    run_id = newest_run(world, thread_id).id
    world.service.cancel(thread_id, run_id)
    reader.join(5)
    # Then the stream tells the cancel, and the run's end
    assert names(events)[-2:] == ["thread.run.cancelling", "thread.run.cancelled"]
    assert world.run(thread_id, run_id).status == "cancelled"


def test_a_client_that_leaves_stops_the_model_and_hands_the_run_to_the_executor(table: Table) -> None:
    # Given a streaming run whose model stalls after its first words
    world = World(table)
    began = threading.Event()

    def stall(params: object) -> c.ChatCompletion:
        began.set()
        cancel.sleep(10)
        return completion()

    world.chat.answers = [stall, completion("Done.")]  # type: ignore[list-item]
    thread_id = world.thread("Hi")
    scope = cancel.CancelScope()
    events = world.streams.create(thread_id, world.run_params(), owner="key_1")
    seen: list[ServerEvent] = []
    reader = threading.Thread(target=lambda: cancel.run_in(scope, _read_until_gone, events, seen, began))
    reader.start()
    assert began.wait(5)
    # When the client leaves (the request's scope is cancelled, as the SSE writer does)
    left = time.monotonic()
    scope.cancel()
    reader.join(5)
    # Then the model call stopped at once, and the run went to the queue, its step to be done again
    task = _wait_for_task(world)
    assert time.monotonic() - left < 2
    run = world.run(thread_id, seen[0].data.id)
    assert (run.status, task.version) == ("in_progress", run.version - 1)
    # And the executor completes it, once
    assert world.worker.execute(task).status == "completed"
    (message,) = world.run_messages(thread_id, run.id)
    assert message.content[0]["text"]["value"] == "Done."


def _read_until_gone(events: Iterator[ServerEvent], seen: list[ServerEvent], began: threading.Event) -> None:
    for event in events:
        seen.append(event)
        if began.is_set():
            break
    close = getattr(events, "close", None)
    if close is not None:
        close()


def _wait_for_task(world: World) -> Any:
    deadline = time.monotonic() + 5
    while not world.queue.sent and time.monotonic() < deadline:
        time.sleep(0.01)
    (task,) = world.queue.sent
    return task


def test_hand_over_sends_what_the_executor_needs(table: Table) -> None:
    world = World(table)
    thread_id, run_id = world.start("Hi")
    queued = world.run(thread_id, run_id)
    world.queue.sent.clear()
    # A queued run: its own version; a finished one: nothing
    world.service.hand_over(thread_id, run_id)
    assert world.queue.sent[-1].version == queued.version
    world.worker.execute(world.queue.sent[-1])
    world.queue.sent.clear()
    world.service.hand_over(thread_id, run_id)
    assert world.queue.sent == []


class BrokenLedger(RunLedger):
    """Storage that fails once the answer is to be written (and, with `always`, for any write after it)."""

    def __init__(self, world: World, *, always: bool = False) -> None:
        super().__init__(world.runs, world.steps, world.clock)
        self.always = always
        self.broke = False

    def move(self, run, status, changes=None, also=()):  # type: ignore[no-untyped-def]
        if status == "completed" or (self.always and self.broke):
            self.broke = True
            raise e.ServiceUnavailableError("Storage is busy; retry shortly.")
        return super().move(run, status, changes, also)


def test_storage_trouble_after_the_first_byte_fails_the_run_in_the_stream(table: Table) -> None:
    world = World(table, ScriptedChat(completion("Almost.")))
    world.worker._ledger = BrokenLedger(world)
    thread_id, events = stream(world)
    assert without_deltas(events)[-3:] == ["thread.message.incomplete", "thread.run.step.failed",
                                           "thread.run.failed"]  # fmt: skip
    run = world.run(thread_id, events[0].data.id)
    assert (run.status, run.last_error) == ("failed", {"code": "server_error",
                                                       "message": "Storage is busy; retry shortly."})  # fmt: skip
    assert world.run_messages(thread_id, run.id) == []


def test_storage_that_cannot_even_fail_the_run_ends_the_stream_with_its_error(table: Table) -> None:
    world = World(table)
    broken = BrokenLedger(world, always=True)
    world.worker._ledger = broken
    world.streams._ledger = broken
    thread_id = world.thread("Hi")
    seen: list[ServerEvent] = []
    with pytest.raises(e.ServiceUnavailableError):
        seen.extend(world.streams.create(thread_id, world.run_params(), owner="key_1"))
    assert newest_run(world, thread_id).status == "in_progress"


def test_a_busy_thread_refuses_a_stream_before_it_begins(table: Table) -> None:
    world = World(table)
    thread_id, _ = world.start("Hi")
    with pytest.raises(e.InvalidRequestError):
        world.streams.create(thread_id, world.run_params(), owner="key_1")


def test_create_and_run_streams_the_thread_first(table: Table) -> None:
    world = World(table)
    params = ThreadCreateAndRunParams.model_validate(
        {"assistant_id": world.assistant(), "thread": {"messages": [{"role": "user", "content": "Hi"}]}}
    )
    events = list(world.streams.create_and_run(params, owner="key_1"))
    assert without_deltas(events) == ["thread.created", *OPENING, *MESSAGE, *DONE]
    assert events[1].data.thread_id == events[0].data.id


def test_the_collector_rebuilds_what_create_answers() -> None:
    # Given the chunks of an answer with text split across them and a call in fragments
    def chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> dict[str, Any]:
        choices = [{"index": 0, "delta": delta, "finish_reason": finish}] if delta is not None else []
        return {"id": "chatcmpl-9", "created": 7, "model": "m", "choices": choices, "usage": usage}

    first_call = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}}
    collector = ChunkCollector()
    for piece in [
        chunk({"role": "assistant", "content": ""}),
        chunk({"tool_calls": [first_call]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"a":'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}),
        chunk({}, "tool_calls"),
        chunk(None, usage={"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}),  # type: ignore[arg-type]
    ]:
        collector.add(piece)
    # Then it is the completion create would have given: no content beside the calls
    answer = collector.completion()
    choice = answer.choices[0]
    assert (choice.message.content, choice.finish_reason) == (None, "tool_calls")
    assert [(t.id, t.function.name, t.function.arguments) for t in choice.message.tool_calls or ()] == [
        ("call_1", "f", '{"a":1}')
    ]
    assert answer.usage is not None
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens, answer.model) == (3, 4, "m")
    # And a text answer keeps its text whole
    text = ChunkCollector()
    for piece in [chunk({"content": "Hel"}), chunk({"content": "lo"}), chunk({}, "length")]:
        text.add(piece)
    assert (text.completion().choices[0].message.content, text.completion().choices[0].finish_reason) == (
        "Hello", "length")  # fmt: skip
