"""Runs through the official SDK (`client.beta.threads.runs`), executed from SQS by the run executor
as `serve` runs it, answered by the offline emulator: polling to completion, create-and-run, the
tool round trip, cancel, pages, run steps, budgets, failures and the 400s and 404s a client meets."""

from __future__ import annotations

import time
from typing import Any

import openai
import pytest
import requests
from openai import OpenAI

from tests.contract.validate import assert_matches

from .conftest import TOKEN

V2 = {"Authorization": f"Bearer {TOKEN}", "OpenAI-Beta": "assistants=v2"}
POLL = 50
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture
def assistant_id(client: OpenAI) -> str:
    return client.beta.assistants.create(model="gpt-4o-mini", instructions="Be brief.", tools=[WEATHER]).id  # type: ignore[list-item]


def thread_with(client: OpenAI, text: str) -> str:
    return client.beta.threads.create(messages=[{"role": "user", "content": text}]).id


def wait_for(client: OpenAI, thread_id: str, run_id: str, *statuses: str, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        run = client.beta.threads.runs.retrieve(run_id, thread_id=thread_id)
        if run.status in statuses or time.monotonic() > deadline:
            return run
        time.sleep(0.05)


def test_create_and_poll_completes_with_the_answer_in_the_thread(
    base_url: str, client: OpenAI, assistant_id: str
) -> None:
    # Given a thread with a question
    thread_id = thread_with(client, "emulate:echo What is the capital of France?")
    # When a run is created and polled
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread_id, assistant_id=assistant_id, poll_interval_ms=POLL, metadata={"k": "v"}
    )
    # Then it completed, with Workers AI's usage
    assert (run.status, run.thread_id, run.assistant_id, run.metadata) == (
        "completed",
        thread_id,
        assistant_id,
        {"k": "v"},
    )
    assert run.usage is not None
    assert run.usage.total_tokens == run.usage.prompt_tokens + run.usage.completion_tokens > 0
    assert run.completed_at is not None
    assert run.started_at is not None
    assert (run.instructions, run.model, run.expires_at) == ("Be brief.", "gpt-4o-mini", None)
    # And the assistant's answer is the newest message of the thread, written by the run
    newest = client.beta.threads.messages.list(thread_id, limit=1).data[0]
    assert (newest.role, newest.run_id, newest.assistant_id) == ("assistant", run.id, assistant_id)
    assert newest.content[0].text.value == "What is the capital of France?"  # type: ignore[union-attr]
    assert [m.id for m in client.beta.threads.messages.list(thread_id, run_id=run.id)] == [newest.id]
    # And one message_creation step names it
    (step,) = client.beta.threads.runs.steps.list(run.id, thread_id=thread_id)
    assert step.step_details.type == "message_creation"
    assert step.step_details.message_creation.message_id == newest.id  # type: ignore[union-attr]
    assert client.beta.threads.runs.steps.retrieve(step.id, thread_id=thread_id, run_id=run.id) == step
    # And every answer has OpenAI's shape
    raw = requests.get(f"{base_url}/threads/{thread_id}/runs/{run.id}", headers=V2, timeout=10)
    assert raw.headers["openai-poll-after-ms"] == "50"
    assert_matches("RunObject", raw.json())
    assert_matches(
        "ListRunsResponse", requests.get(f"{base_url}/threads/{thread_id}/runs", headers=V2, timeout=10).json()
    )
    steps_url = f"{base_url}/threads/{thread_id}/runs/{run.id}/steps"
    assert_matches("ListRunStepsResponse", requests.get(steps_url, headers=V2, timeout=10).json())
    assert_matches("RunStepObject", requests.get(f"{steps_url}/{step.id}", headers=V2, timeout=10).json())


def test_create_and_run_poll_makes_the_thread_too(client: OpenAI, assistant_id: str) -> None:
    run = client.beta.threads.create_and_run_poll(
        assistant_id=assistant_id, poll_interval_ms=POLL,
        thread={"messages": [{"role": "user", "content": "emulate:echo Hello there"}]},
        instructions="Override.", temperature=0.2, truncation_strategy={"type": "last_messages", "last_messages": 5},
    )  # fmt: skip
    assert (run.status, run.instructions, run.temperature) == ("completed", "Override.", 0.2)
    assert run.truncation_strategy is not None
    assert (run.truncation_strategy.type, run.truncation_strategy.last_messages) == ("last_messages", 5)
    roles = [m.role for m in client.beta.threads.messages.list(run.thread_id, order="asc")]
    assert roles == ["user", "assistant"]


def test_function_tools_round_trip(base_url: str, client: OpenAI, assistant_id: str) -> None:
    # Given a question the model answers by calling a tool
    thread_id = thread_with(client, "emulate:tool=get_weather Weather in Paris?")
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread_id, assistant_id=assistant_id, poll_interval_ms=POLL
    )
    # Then the run waits for the tool's output
    assert run.status == "requires_action"
    assert run.required_action is not None
    (call,) = run.required_action.submit_tool_outputs.tool_calls
    assert (call.type, call.function.name) == ("function", "get_weather")
    assert_matches("RunObject", requests.get(f"{base_url}/threads/{thread_id}/runs/{run.id}", headers=V2,
                                             timeout=10).json())  # fmt: skip
    # When outputs for calls it does not wait for arrive, then they are refused
    with pytest.raises(openai.BadRequestError) as refused:
        client.beta.threads.runs.submit_tool_outputs(
            run.id, thread_id=thread_id, tool_outputs=[{"tool_call_id": "call_unknown", "output": "x"}]
        )
    assert refused.value.param == "tool_outputs[0].tool_call_id"
    # When the output is submitted
    done = client.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id, thread_id=thread_id, tool_outputs=[{"tool_call_id": call.id, "output": "22C and sunny"}],
        poll_interval_ms=POLL,
    )  # fmt: skip
    # Then the run continues to an answer made from the output
    assert done.status == "completed"
    answer = client.beta.threads.messages.list(thread_id, limit=1).data[0]
    assert "22C and sunny" in answer.content[0].text.value  # type: ignore[union-attr]
    # And its steps are the tool call (with its output) then the message
    steps = list(client.beta.threads.runs.steps.list(run.id, thread_id=thread_id, order="asc"))
    assert [s.type for s in steps] == ["tool_calls", "message_creation"]
    assert steps[0].step_details.tool_calls[0].function.output == "22C and sunny"  # type: ignore[union-attr]
    assert_matches("ListRunStepsResponse", requests.get(f"{base_url}/threads/{thread_id}/runs/{run.id}/steps",
                                                        headers=V2, timeout=10).json())  # fmt: skip


def test_a_run_is_cancelled_while_the_model_generates(client: OpenAI, assistant_id: str) -> None:
    # Given a run whose model takes long
    thread_id = thread_with(client, "emulate:delay_ms=8000 a slow answer")
    run = client.beta.threads.runs.create(thread_id=thread_id, assistant_id=assistant_id)
    assert wait_for(client, thread_id, run.id, "in_progress").status == "in_progress"
    # When it is cancelled
    cancelling = client.beta.threads.runs.cancel(run.id, thread_id=thread_id)
    assert cancelling.status == "cancelling"
    # Then it is cancelled long before the model would have answered, with no answer written
    began = time.monotonic()
    assert wait_for(client, thread_id, run.id, "cancelled").status == "cancelled"
    assert time.monotonic() - began < 4
    assert list(client.beta.threads.messages.list(thread_id, run_id=run.id)) == []
    # And a finished run cannot be cancelled again
    with pytest.raises(openai.BadRequestError):
        client.beta.threads.runs.cancel(run.id, thread_id=thread_id)


def test_a_thread_with_an_active_run_refuses_another(client: OpenAI, assistant_id: str) -> None:
    thread_id = thread_with(client, "emulate:delay_ms=3000 slow")
    first = client.beta.threads.runs.create(thread_id=thread_id, assistant_id=assistant_id)
    with pytest.raises(openai.BadRequestError) as refused:
        client.beta.threads.runs.create(thread_id=thread_id, assistant_id=assistant_id)
    assert first.id in refused.value.message
    client.beta.threads.runs.cancel(first.id, thread_id=thread_id)
    assert wait_for(client, thread_id, first.id, "cancelled").status == "cancelled"
    # Once it ended, a new run may start
    second = client.beta.threads.runs.create(thread_id=thread_id, assistant_id=assistant_id)
    assert second.status == "queued"
    client.beta.threads.runs.cancel(second.id, thread_id=thread_id)
    assert wait_for(client, thread_id, second.id, "cancelled").status == "cancelled"


def test_runs_page_in_both_orders(client: OpenAI, assistant_id: str) -> None:
    thread_id = thread_with(client, "emulate:tokens=2 hi")
    ids = [
        client.beta.threads.runs.create_and_poll(thread_id=thread_id, assistant_id=assistant_id,
                                                 poll_interval_ms=POLL).id
        for _ in range(3)
    ]  # fmt: skip
    newest_first = [run.id for run in client.beta.threads.runs.list(thread_id, limit=2)]
    oldest_first = [run.id for run in client.beta.threads.runs.list(thread_id, limit=2, order="asc")]
    assert (newest_first, oldest_first) == (ids[::-1], ids)
    page = client.beta.threads.runs.list(thread_id, limit=2, order="asc")
    assert (page.has_more, page.first_id, page.last_id) == (True, ids[0], ids[1])


def test_a_spent_completion_budget_is_incomplete(client: OpenAI, assistant_id: str) -> None:
    thread_id = thread_with(client, "emulate:tokens=400 a long answer")
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread_id, assistant_id=assistant_id, max_completion_tokens=256, poll_interval_ms=POLL
    )
    assert run.status == "incomplete"
    assert run.incomplete_details is not None
    assert run.incomplete_details.reason == "max_completion_tokens"
    assert run.usage is not None
    assert run.usage.completion_tokens == 256
    answer = client.beta.threads.messages.list(thread_id, limit=1).data[0]
    assert answer.status == "incomplete"


def test_a_failing_model_fails_the_run_with_last_error(client: OpenAI, assistant_id: str) -> None:
    thread_id = thread_with(client, "emulate:error=3036 out of quota")
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread_id, assistant_id=assistant_id, poll_interval_ms=POLL
    )
    assert run.status == "failed"
    assert run.last_error is not None
    assert run.last_error.code == "rate_limit_exceeded"
    assert run.failed_at is not None


def test_overrides_and_additional_messages(client: OpenAI, assistant_id: str) -> None:
    thread_id = thread_with(client, "first")
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread_id, assistant_id=assistant_id, poll_interval_ms=POLL, model="gpt-4o",
        additional_instructions="And kind.", additional_messages=[{"role": "user", "content": "emulate:echo second"}],
        tools=[], response_format={"type": "text"}, top_p=0.5, parallel_tool_calls=False,
    )  # fmt: skip
    assert (run.status, run.model, run.instructions, run.tools) == ("completed", "gpt-4o", "Be brief.\n\nAnd kind.", [])
    assert (run.top_p, run.parallel_tool_calls) == (0.5, False)
    texts = [m.content[0].text.value for m in client.beta.threads.messages.list(thread_id, order="asc")]  # type: ignore[union-attr]
    assert texts == ["first", "emulate:echo second", "second"]


def test_a_runs_metadata_is_updated(client: OpenAI, assistant_id: str) -> None:
    run = client.beta.threads.create_and_run_poll(
        assistant_id=assistant_id, thread={"messages": [{"role": "user", "content": "hi"}]}, poll_interval_ms=POLL
    )
    updated = client.beta.threads.runs.update(run.id, thread_id=run.thread_id, metadata={"a": "b"})
    assert updated.model_copy(update={"metadata": {}}) == run.model_copy(update={"metadata": {}})
    assert updated.metadata == {"a": "b"}


def test_deleting_a_thread_deletes_its_runs(client: OpenAI, assistant_id: str) -> None:
    run = client.beta.threads.create_and_run_poll(
        assistant_id=assistant_id, thread={"messages": [{"role": "user", "content": "hi"}]}, poll_interval_ms=POLL
    )
    client.beta.threads.delete(run.thread_id)
    with pytest.raises(openai.NotFoundError):
        client.beta.threads.runs.retrieve(run.id, thread_id=run.thread_id)


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (lambda c, t, a, r: c.beta.threads.runs.retrieve("run_nope", thread_id=t), "run_id"),
        (lambda c, t, a, r: c.beta.threads.runs.retrieve(r, thread_id="thread_nope"), "thread_id"),
        (lambda c, t, a, r: c.beta.threads.runs.create(thread_id="thread_nope", assistant_id=a), "thread_id"),
        (lambda c, t, a, r: c.beta.threads.runs.create(thread_id=t, assistant_id="asst_nope"), "assistant_id"),
        (lambda c, t, a, r: c.beta.threads.runs.cancel("run_nope", thread_id=t), "run_id"),
        (lambda c, t, a, r: c.beta.threads.runs.steps.list("run_nope", thread_id=t), "run_id"),
        (lambda c, t, a, r: c.beta.threads.runs.steps.retrieve("step_nope", thread_id=t, run_id=r), "step_id"),
        (lambda c, t, a, r: c.beta.threads.create_and_run(assistant_id="asst_nope"), "assistant_id"),
    ],
)
def test_unknown_ids_are_404s(client: OpenAI, assistant_id: str, call: Any, param: str) -> None:
    run = client.beta.threads.create_and_run_poll(
        assistant_id=assistant_id, thread={"messages": [{"role": "user", "content": "hi"}]}, poll_interval_ms=POLL
    )
    with pytest.raises(openai.NotFoundError) as refused:
        call(client, run.thread_id, assistant_id, run.id)
    assert refused.value.param == param


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
        ({"max_completion_tokens": 10}, "max_completion_tokens"),
        ({"tools": [{"type": "file_search"}]}, "tools[0].type"),
        ({"tool_choice": {"type": "function", "function": {"name": "nope"}}}, "tool_choice.function.name"),
        ({"truncation_strategy": {"type": "sometimes"}}, "truncation_strategy.type"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_run_requests_are_400s(base_url: str, client: OpenAI, assistant_id: str, body: dict[str, Any],
                                    param: str) -> None:  # fmt: skip
    thread_id = client.beta.threads.create().id
    answer = requests.post(f"{base_url}/threads/{thread_id}/runs", json={"assistant_id": assistant_id, **body},
                           headers=V2, timeout=10)  # fmt: skip
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["param"] == param
    # And nothing was started: the thread takes a run at once
    assert client.beta.threads.runs.list(thread_id).data == []
