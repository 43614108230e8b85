"""The run executor's Lambda handler against moto: SQS events in, partial batch failures out, and
idempotency records (on the table's key rule) that make a twice-delivered message do its step once."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from openai_cf import errors as e
from openai_cf.executor.handler import Executor, wrap
from openai_cf.executor.idempotency import KEY_PREFIX, RunStepRecords
from openai_cf.local.poller import LocalContext, sqs_event
from openai_cf.storage.run_queue import RunTask
from openai_cf.storage.table import Table
from tests.unit.moto_table import raw_items, table
from tests.unit.run_world import ScriptedChat, World, completion

__all__ = ["table"]


def handler_for(world: World) -> Any:
    records = RunStepRecords(world.table.name, world.table._clients.client("dynamodb"))
    return wrap(Executor(world.worker, records, max_receives=3, clock=world.clock))


def event(*tasks: RunTask, receives: int = 1) -> dict[str, Any]:
    messages = [{"MessageId": f"m{i}", "ReceiptHandle": f"r{i}", "Body": task.model_dump_json(),
                 "Attributes": {"ApproximateReceiveCount": str(receives)}}
                for i, task in enumerate(tasks)]  # fmt: skip
    return sqs_event(messages, "arn:aws:sqs:us-east-1:000000000000:runs", "us-east-1")


def test_the_same_message_twice_in_a_batch_runs_its_step_once(table: Table) -> None:
    world = World(table)
    thread_id, run_id = world.start("Hi")
    (task,) = world.queue.sent
    # When a batch holds the run's message twice (SQS delivers at least once)
    answer = handler_for(world)(event(task, task), LocalContext())
    # Then both records succeeded, the model was asked once, and one answer was written
    assert answer == {"batchItemFailures": []}
    assert len(world.chat.requests) == 1
    assert len(world.run_messages(thread_id, run_id)) == 1
    # And the step's idempotency record is its own collection, with the table's TTL
    (record,) = [item for item in raw_items(table) if str(item["pk"]).startswith("idempotency#")]
    assert record["pk"] == record["sk"]
    assert str(record["pk"]).startswith(KEY_PREFIX + "#")
    assert (record["status"], isinstance(record["ttl"], int)) == ("COMPLETED", True)


def test_a_failing_record_alone_comes_back(table: Table) -> None:
    # Given two runs, the second of which meets busy storage
    world = World(table, ScriptedChat(completion("one"), e.ServiceUnavailableError("busy")))
    world.start("Hi")
    world.start("Hello")
    first, second = world.queue.sent
    calls = 0
    original = world.worker._context.history

    def flaky(run: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise e.ServiceUnavailableError("Storage is busy; retry shortly.")
        return original(run)

    world.worker._context.history = flaky  # type: ignore[method-assign]
    answer = handler_for(world)(event(first, second), LocalContext())
    # Then only the second record is reported, and its idempotency record is gone (so it retries)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    statuses = sorted(str(i["status"]) for i in raw_items(table) if str(i["pk"]).startswith("idempotency#"))
    assert statuses == ["COMPLETED"]


def _left_in_progress(table: Table, world: World, task: RunTask, deadline_ms: int) -> None:
    """The idempotency record an executor leaves when it dies mid-step (no cleanup ran)."""
    # Run the step once to learn its key, then put the record back as a dead executor left it.
    handler_for(world)(event(task), LocalContext())
    (record,) = [i for i in raw_items(table) if str(i["pk"]).startswith("idempotency#")]
    table.put({**record, "status": "INPROGRESS", "in_progress_expiration": deadline_ms, "ttl": int(time.time()) + 600})


@pytest.mark.parametrize("deadline_passed", [True, False])
def test_a_step_whose_executor_died_waits_for_its_invocation_deadline(table: Table, deadline_passed: bool) -> None:
    # Given a run mid-step whose executor died, leaving its idempotency record in progress
    world = World(table)
    thread_id, run_id = world.start("Hi")
    (task,) = world.queue.sent
    world.runs.transition(world.run(thread_id, run_id), {"status": "in_progress", "step_started_ms": 1})
    deadline = int(time.time() * 1000) + (-1000 if deadline_passed else 60_000)
    _left_in_progress(table, world, RunTask(thread_id=thread_id, run_id=run_id, version=task.version), deadline)
    world.chat.requests.clear()
    # When the message is delivered again
    answer = handler_for(world)(event(task), LocalContext(timeout_seconds=5))
    if deadline_passed:
        # Then, the dead invocation's deadline being past, the step is done again and completes
        assert answer == {"batchItemFailures": []}
        assert world.run(thread_id, run_id).status == "completed"
    else:
        # Then, since that executor might still be alive, the message is handed back for later
        assert answer == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
        assert world.chat.requests == []


def test_a_message_that_is_no_run_task_is_reported(table: Table) -> None:
    world = World(table)
    bad = sqs_event([{"MessageId": "m0", "ReceiptHandle": "r0", "Body": json.dumps({"x": 1})}], "arn", "us-east-1")
    good_thread, _ = world.start("Hi")
    bad["Records"] += event(world.queue.sent[0])["Records"]
    bad["Records"][1]["messageId"] = "m1"
    # Then the malformed record fails (to the dead-letter queue in time), the other succeeds
    assert handler_for(world)(bad, LocalContext()) == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert world.runs.active_run_id(good_thread) is None


@pytest.mark.parametrize("receives", [2, 3])
def test_a_run_fails_when_its_messages_last_delivery_fails(table: Table, receives: int) -> None:
    # Given a step that keeps failing (storage, say), on its message's next-to-last or last delivery
    world = World(table)
    thread_id, run_id = world.start("Hi")

    def broken(run: Any) -> Any:
        raise e.ServiceUnavailableError("Storage is busy; retry shortly.")

    world.worker._context.history = broken  # type: ignore[method-assign]
    answer = handler_for(world)(event(world.queue.sent[0], receives=receives), LocalContext())
    # Then the record is reported either way (to come back, or to go to the dead-letter queue)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    run = world.run(thread_id, run_id)
    if receives < 3:
        assert run.status == "in_progress"
    else:
        # And on the last one the run fails for good, releasing its thread
        assert (run.status, (run.last_error or {}).get("code")) == ("failed", "server_error")
        assert world.runs.active_run_id(thread_id) is None


def test_with_metrics_disabled_runs_do_not_pile_up_dimensions(table: Table, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given metrics switched off, as `serve` does
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    world = World(table, ScriptedChat(completion(), e.RateLimitError("Capacity temporarily exceeded")))
    handler = handler_for(world)
    # When two runs end differently one after the other (a warning fails the test: filterwarnings=error)
    for text in ("one", "two"):
        world.start(text)
        assert handler(event(world.queue.sent[-1]), LocalContext()) == {"batchItemFailures": []}
