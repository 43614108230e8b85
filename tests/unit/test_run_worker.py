"""The run executor's step against moto, with a scripted model and an injected clock: the status
machine, crash safety (a crash before or after the outcome's transaction), redelivery, cancel
races, expiry, failures, tool round trips and token budgets."""

from __future__ import annotations

import threading
import time

import pytest

from openai_cf import cancel
from openai_cf import errors as e
from openai_cf.schemas.runs import RunCreateParams, RunSubmitToolOutputsParams
from openai_cf.services.run_ledger import RunLedger
from openai_cf.storage.table import Table
from tests.unit.moto_table import table
from tests.unit.run_world import WEATHER, ScriptedChat, World, completion, tool_call

__all__ = ["table"]


def test_a_queued_run_completes_with_one_message_and_one_step(table: Table) -> None:
    # Given a thread with a question and a queued run
    world = World(table, ScriptedChat(completion("Paris.", usage=(20, 3))))
    thread_id, run_id = world.start("What is the capital of France?")
    (task,) = world.queue.sent
    # When the executor takes the run's message
    report = world.worker.execute(task)
    # Then the run completed, with Workers AI's usage, and released its thread
    run = world.run(thread_id, run_id)
    assert (report.status, report.worked, run.status) == ("completed", True, "completed")
    assert run.usage == {"prompt_tokens": 20, "completion_tokens": 3}
    assert run.completed_at is not None
    assert world.runs.active_run_id(thread_id) is None
    # And the answer is in the thread, written by the run, with its message_creation step
    (message,) = world.run_messages(thread_id, run_id)
    assert (message.role, message.content[0]["text"]["value"], message.assistant_id) == (
        "assistant", "Paris.", run.assistant_id,
    )  # fmt: skip
    assert [m.id for m in world.thread_messages(thread_id)][-1] == message.id
    (step,) = world.run_steps_of(run_id)
    assert step.step_details == {"type": "message_creation", "message_creation": {"message_id": message.id}}
    assert (step.status, step.usage) == ("completed", {"prompt_tokens": 20, "completion_tokens": 3})
    # And the model was asked with the instructions as a system message, then the thread
    (request,) = world.chat.requests
    assert [m.role for m in request.messages] == ["system", "user"]


def test_a_message_delivered_twice_does_its_step_once(table: Table) -> None:
    world = World(table)
    thread_id, run_id = world.start("Hi")
    (task,) = world.queue.sent
    world.worker.execute(task)
    # When the same message comes again
    again = world.worker.execute(task)
    # Then nothing more happened: one model call, one message, one step
    assert (again.status, again.worked) == ("completed", False)
    assert len(world.chat.requests) == 1
    assert len(world.run_messages(thread_id, run_id)) == 1
    assert len(world.run_steps_of(run_id)) == 1


class CrashingLedger(RunLedger):
    """Dies once around the final transition: before it is written, or after (before the release)."""

    def __init__(self, world: World, *, after: bool) -> None:
        super().__init__(world.runs, world.steps, world.clock)
        self.after = after
        self.crashed = False

    def move(self, run, status, changes=None, also=()):  # type: ignore[no-untyped-def]
        if status != "completed" or self.crashed:
            return super().move(run, status, changes, also)
        self.crashed = True
        if not self.after:
            raise RuntimeError("executor died before writing the outcome")
        self.runs.transition(run, {"status": status, **(changes or {})}, also=also)
        raise RuntimeError("executor died after writing the outcome")


@pytest.mark.parametrize("after", [False, True], ids=["before-the-transaction", "after-the-transaction"])
def test_an_executor_that_dies_midway_leaves_exactly_one_answer(table: Table, after: bool) -> None:
    # Given an executor that dies around writing the answer
    world = World(table)
    world.worker._ledger = CrashingLedger(world, after=after)
    thread_id, run_id = world.start("Hi")
    (task,) = world.queue.sent
    with pytest.raises(RuntimeError):
        world.worker.execute(task)
    # When the message is delivered again (the visibility timeout passed)
    world.worker.execute(task)
    # Then the run completed once: one answer, one step
    assert world.run(thread_id, run_id).status == "completed"
    assert len(world.run_messages(thread_id, run_id)) == 1
    assert len(world.run_steps_of(run_id)) == 1
    # And a crash that left the thread's marker behind does not keep the next run out
    assert world.runs.active_run_id(thread_id) == (run_id if after else None)
    again = world.service.create(thread_id, RunCreateParams(assistant_id=world.assistant()), owner="key_1")
    assert world.runs.active_run_id(thread_id) == again.id


def test_a_run_cancelled_while_queued_never_reaches_the_model(table: Table) -> None:
    world = World(table)
    thread_id, run_id = world.start("Hi")
    # When the run is cancelled before its message is taken
    assert world.service.cancel(thread_id, run_id).status == "cancelled"
    report = world.worker.execute(world.queue.sent[0])
    # Then the message does nothing, and the thread is free again
    assert (report.status, report.worked, world.chat.requests) == ("cancelled", False, [])
    assert world.runs.active_run_id(thread_id) is None


def test_a_run_cancelled_during_generation_abandons_the_model_call(table: Table) -> None:
    # Given a model that takes long to answer, unless its call is cancelled
    started = threading.Event()

    def slow(params: object) -> object:
        started.set()
        cancel.sleep(10)
        return completion()

    world = World(table, ScriptedChat(slow))  # type: ignore[arg-type]
    thread_id, run_id = world.start("Hi")
    outcome: list[object] = []
    worker = threading.Thread(target=lambda: outcome.append(world.worker.execute(world.queue.sent[0])))
    worker.start()
    assert started.wait(5)
    # When the client cancels while the model generates
    assert world.service.cancel(thread_id, run_id).status == "cancelling"
    began = time.monotonic()
    worker.join(5)
    # Then the call is abandoned at once and the run is cancelled, with no answer written
    assert time.monotonic() - began < 2
    assert world.run(thread_id, run_id).status == "cancelled"
    assert world.run_messages(thread_id, run_id) == []
    assert world.runs.active_run_id(thread_id) is None


def test_a_cancel_that_lands_as_the_answer_is_written_wins_or_loses_cleanly(table: Table) -> None:
    # Given a model whose answer arrives just as the run is set to cancelling
    world = World(table)
    thread_id, run_id = world.start("Hi")

    def cancel_then_answer(params: object) -> object:
        world.service.cancel(thread_id, run_id)
        return completion()

    world.chat.answers = [cancel_then_answer]  # type: ignore[list-item]
    world.worker.execute(world.queue.sent[0])
    # Then the cancel won: the answer was dropped
    assert world.run(thread_id, run_id).status == "cancelled"
    assert world.run_messages(thread_id, run_id) == []


def test_a_run_past_its_expiry_expires(table: Table) -> None:
    world = World(table)
    thread_id, _ = world.start("Hi")
    # When its message is taken after expires_at (ten minutes)
    world.clock.now += 601
    report = world.worker.execute(world.queue.sent[0])
    # Then it expired without a model call
    assert (report.status, world.chat.requests) == ("expired", [])
    assert world.runs.active_run_id(thread_id) is None


def test_a_run_that_expires_during_generation_is_abandoned(table: Table) -> None:
    world = World(table)

    def past_expiry(params: object) -> object:
        world.clock.now += 601
        cancel.sleep(10)
        return completion()

    world.chat.answers = [past_expiry]  # type: ignore[list-item]
    thread_id, run_id = world.start("Hi")
    assert world.worker.execute(world.queue.sent[0]).status == "expired"
    assert world.run_messages(thread_id, run_id) == []


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (e.RateLimitError("Capacity temporarily exceeded"), "rate_limit_exceeded"),
        (e.BadGatewayError("Workers AI failed"), "server_error"),
        (e.InvalidRequestError("Too many tokens", code="invalid_request"), "invalid_prompt"),
    ],
)
def test_a_failed_model_call_fails_the_run_with_last_error(table: Table, error: e.OpenAICFError, code: str) -> None:
    """(Only Workers AI's own failures are reported as upstream errors, for the metrics.)"""
    world = World(table, ScriptedChat(error))
    thread_id, run_id = world.start("Hi")
    report = world.worker.execute(world.queue.sent[0])
    run = world.run(thread_id, run_id)
    assert (run.status, run.last_error) == ("failed", {"code": code, "message": error.message})
    assert run.failed_at is not None
    assert (report.upstream_error is not None) == (code != "invalid_prompt")
    assert world.runs.active_run_id(thread_id) is None


def test_a_storage_failure_is_left_to_the_queue(table: Table) -> None:
    # Given storage that fails while the thread is read
    world = World(table)
    thread_id, run_id = world.start("Hi")

    def broken(run: object) -> object:
        raise e.ServiceUnavailableError("Storage is busy; retry shortly.")

    world.worker._context.history = broken  # type: ignore[method-assign,assignment]
    # Then the step raises (the message comes back) and the run stays in progress
    with pytest.raises(e.ServiceUnavailableError):
        world.worker.execute(world.queue.sent[0])
    assert world.run(thread_id, run_id).status == "in_progress"


def test_tool_calls_wait_for_outputs_then_the_run_continues(table: Table) -> None:
    # Given a model that calls a tool, then answers with its output
    world = World(table, ScriptedChat(tool_call(("get_weather", '{"city":"Paris"}')), completion("Sunny.")))
    thread_id, run_id = world.start("Weather in Paris?", assistant_id=world.assistant(tools=[WEATHER]))
    world.worker.execute(world.queue.sent[0])
    # Then the run requires action, naming the call, with a tool_calls step in progress
    run = world.run(thread_id, run_id)
    assert run.status == "requires_action"
    (call,) = run.required_action["submit_tool_outputs"]["tool_calls"]  # type: ignore[index]
    assert call["function"] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}
    (step,) = world.run_steps_of(run_id)
    assert (step.type, step.status) == ("tool_calls", "in_progress")
    # When outputs naming no pending call arrive, then they are refused
    wrong = RunSubmitToolOutputsParams.model_validate({"tool_outputs": [{"tool_call_id": "call_x", "output": "1"}]})
    with pytest.raises(e.InvalidRequestError) as refused:
        world.service.submit_tool_outputs(thread_id, run_id, wrong)
    assert refused.value.param == "tool_outputs[0].tool_call_id"
    # When the output is submitted
    outputs = RunSubmitToolOutputsParams.model_validate({"tool_outputs": [{"tool_call_id": call["id"],
                                                                          "output": "22C"}]})  # fmt: skip
    assert world.service.submit_tool_outputs(thread_id, run_id, outputs).status == "queued"
    # Then the run is queued again and its next step sends the call and its output to the model
    assert len(world.queue.sent) == 2
    world.worker.execute(world.queue.sent[1])
    assert world.run(thread_id, run_id).status == "completed"
    roles = [m.role for m in world.chat.requests[1].messages]
    assert roles == ["system", "user", "assistant", "tool"]
    assert world.chat.requests[1].messages[3].content == "22C"  # type: ignore[union-attr]
    steps = world.run_steps_of(run_id)
    assert [(s.type, s.status) for s in steps] == [("tool_calls", "completed"), ("message_creation", "completed")]
    assert steps[0].step_details["tool_calls"][0]["function"]["output"] == "22C"
    # And usage sums both steps
    assert world.run(thread_id, run_id).usage == {"prompt_tokens": 22, "completion_tokens": 12}


def test_a_spent_completion_budget_makes_the_run_incomplete(table: Table) -> None:
    # Given a run allowed 256 completion tokens and a model cut short by them
    world = World(table, ScriptedChat(completion("Once upon", finish="length", usage=(9, 256))))
    thread_id, run_id = world.start("Tell a long story", max_completion_tokens=256)
    world.worker.execute(world.queue.sent[0])
    # Then the model was given the run's budget, and the run is incomplete for it
    assert world.chat.requests[0].max_completion_tokens == 256
    run = world.run(thread_id, run_id)
    assert (run.status, run.incomplete_details) == ("incomplete", {"reason": "max_completion_tokens"})
    (message,) = world.run_messages(thread_id, run_id)
    assert (message.status, message.incomplete_details) == ("incomplete", {"reason": "max_tokens"})


def test_a_spent_prompt_budget_makes_the_run_incomplete(table: Table) -> None:
    world = World(table, ScriptedChat(completion(usage=(300, 2))))
    thread_id, run_id = world.start("Hi", max_prompt_tokens=256)
    world.worker.execute(world.queue.sent[0])
    assert world.run(thread_id, run_id).incomplete_details == {"reason": "max_prompt_tokens"}


def test_truncation_keeps_the_newest_messages(table: Table) -> None:
    world = World(table)
    world.start(*(f"message {i}" for i in range(5)), truncation_strategy={"type": "last_messages", "last_messages": 2})
    world.worker.execute(world.queue.sent[0])
    texts = [m.content for m in world.chat.requests[0].messages[1:]]
    assert texts == ["message 3", "message 4"]


def test_a_deleted_thread_takes_its_runs_and_steps_along(table: Table) -> None:
    world = World(table)
    thread_id, run_id = world.start("Hi")
    world.worker.execute(world.queue.sent[0])
    world.thread_service.delete(thread_id)
    assert world.runs.get(thread_id, run_id) is None
    assert world.run_steps_of(run_id) == []
    assert world.run_messages(thread_id, run_id) == []


def test_an_answer_too_large_to_store_fails_the_run(table: Table) -> None:
    world = World(table, ScriptedChat(completion("é" * 200_000)))
    thread_id, run_id = world.start("Hi")
    world.worker.execute(world.queue.sent[0])
    run = world.run(thread_id, run_id)
    assert (run.status, (run.last_error or {}).get("code")) == ("failed", "server_error")
    assert world.run_messages(thread_id, run_id) == []
