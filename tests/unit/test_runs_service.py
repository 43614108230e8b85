"""The runs service's own decisions against moto: runs waiting for tool outputs that are cancelled
or expire, a queue that cannot be reached, and a deployment without a queue."""

from __future__ import annotations

import pytest

from openai_cf import errors as e
from openai_cf.schemas.runs import (
    RunCreateParams,
    RunListParams,
    RunStepListParams,
    RunSubmitToolOutputsParams,
    ThreadCreateAndRunParams,
)
from openai_cf.services.runs import RunsConfig
from openai_cf.storage.run_queue import RunTask
from openai_cf.storage.table import Table
from tests.unit.moto_table import raw_items, table
from tests.unit.run_world import WEATHER, ScriptedChat, World, tool_call

__all__ = ["table"]


def waiting_for_outputs(world: World) -> tuple[str, str]:
    world.chat.answers = [tool_call(("get_weather", "{}"))]
    thread_id, run_id = world.start("Weather?", assistant_id=world.assistant(tools=[WEATHER]))
    world.worker.execute(world.queue.sent[0])
    assert world.run(thread_id, run_id).status == "requires_action"
    return thread_id, run_id


def test_a_run_waiting_for_outputs_expires_with_its_step(table: Table) -> None:
    world = World(table, ScriptedChat())
    thread_id, run_id = waiting_for_outputs(world)
    # When nobody submits outputs before expires_at
    world.clock.now += 600
    # Then the run and its waiting step read as expired
    assert world.service.retrieve(thread_id, run_id).status == "expired"
    (step,) = world.run_steps.list(thread_id, run_id, RunStepListParams()).data
    assert (step.status, step.expired_at) == ("expired", world.run(thread_id, run_id).expires_at)
    # And late outputs, or a cancel, are refused
    call_id = world.run(thread_id, run_id).required_action["submit_tool_outputs"]["tool_calls"][0]["id"]  # type: ignore[index]
    late = RunSubmitToolOutputsParams.model_validate({"tool_outputs": [{"tool_call_id": call_id, "output": "x"}]})
    with pytest.raises(e.InvalidRequestError, match='status "expired"'):
        world.service.submit_tool_outputs(thread_id, run_id, late)
    with pytest.raises(e.InvalidRequestError, match="Cannot cancel run with status 'expired'"):
        world.service.cancel(thread_id, run_id)
    # And the thread takes a new run
    assert (
        world.service.create(thread_id, RunCreateParams(assistant_id=world.assistant()), owner="k").status == "queued"
    )


def test_cancelling_a_run_waiting_for_outputs_cancels_its_step(table: Table) -> None:
    world = World(table, ScriptedChat())
    thread_id, run_id = waiting_for_outputs(world)
    cancelled = world.service.cancel(thread_id, run_id)
    assert (cancelled.status, cancelled.required_action) == ("cancelled", None)
    (step,) = world.run_steps_of(run_id)
    assert step.status == "cancelled"
    assert step.cancelled_at is not None


def test_outputs_must_answer_every_pending_call_once(table: Table) -> None:
    world = World(table, ScriptedChat())
    thread_id, run_id = waiting_for_outputs(world)
    call_id = world.run(thread_id, run_id).required_action["submit_tool_outputs"]["tool_calls"][0]["id"]  # type: ignore[index]
    for outputs, param in (
        ([], "tool_outputs"),
        ([{"tool_call_id": call_id, "output": "a"}, {"tool_call_id": call_id, "output": "b"}],
         "tool_outputs[1].tool_call_id"),
        ([{"output": "a"}], "tool_outputs[0].tool_call_id"),
    ):  # fmt: skip
        with pytest.raises(e.InvalidRequestError) as refused:
            params = RunSubmitToolOutputsParams.model_validate({"tool_outputs": outputs})
            world.service.submit_tool_outputs(thread_id, run_id, params)
        assert refused.value.param == param
    assert world.run(thread_id, run_id).status == "requires_action"


class DeadQueue:
    def send(self, task: RunTask) -> None:
        raise e.ServiceUnavailableError("SQS is unreachable")


def test_a_run_that_cannot_be_queued_fails_at_once(table: Table) -> None:
    world = World(table)
    world.service._config = RunsConfig(DeadQueue())  # type: ignore[arg-type]
    thread_id = world.thread("Hi")
    with pytest.raises(e.ServiceUnavailableError):
        world.service.create(thread_id, RunCreateParams(assistant_id=world.assistant()), owner="k")
    # Then the run failed (it will never be worked on) and the thread is free
    (run,) = world.service.list(thread_id, RunListParams()).data
    assert (run.status, run.last_error.code if run.last_error else None) == ("failed", "server_error")
    assert world.runs.active_run_id(thread_id) is None


def test_without_a_queue_runs_are_refused_before_anything_is_written(table: Table) -> None:
    world = World(table)
    world.service._config = RunsConfig(None)
    thread_id = world.thread("Hi")
    assistant_id = world.assistant()
    before = len(raw_items(table))
    with pytest.raises(e.InternalServerError) as refused:
        world.service.create(thread_id, RunCreateParams(assistant_id=assistant_id), owner="k")
    assert refused.value.code == "runs_not_configured"
    assert len(raw_items(table)) == before


def test_create_and_run_refuses_before_it_makes_the_thread(table: Table) -> None:
    world = World(table)
    assistant_id = world.assistant(tools=[WEATHER])
    before = len(raw_items(table))
    bad = ThreadCreateAndRunParams.model_validate(
        {"assistant_id": assistant_id, "thread": {"messages": [{"role": "user", "content": "hi"}]},
         "tool_choice": {"type": "function", "function": {"name": "nope"}}}
    )  # fmt: skip
    with pytest.raises(e.InvalidRequestError) as refused:
        world.service.create_and_run(bad, owner="k")
    assert refused.value.param == "tool_choice.function.name"
    assert len(raw_items(table)) == before


def test_create_and_run_answers_after_the_threads_messages(table: Table) -> None:
    # Given a clock that does not move (all in one millisecond)
    world = World(table)
    params = ThreadCreateAndRunParams.model_validate(
        {"assistant_id": world.assistant(), "thread": {"messages": [{"role": "user", "content": "hi"}]}}
    )
    run = world.service.create_and_run(params, owner="k")
    world.worker.execute(world.queue.sent[0])
    # Then the answer is still the thread's newest message
    assert [m.role for m in world.thread_messages(run.thread_id)] == ["user", "assistant"]
