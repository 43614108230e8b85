"""The dead-letter handler against moto: a run whose message went to the dead-letter queue ends
`failed` (or as its cancel or expiry says), exactly once, and a run in other hands is left alone."""

from __future__ import annotations

import json
from typing import Any

import pytest

from openai_cf import errors as e
from openai_cf.executor.dead_letters import GAVE_UP, DeadLetters, make_handler
from openai_cf.local.poller import LocalContext, sqs_event
from openai_cf.storage.run_queue import RunTask
from openai_cf.storage.runs import RunRecord
from openai_cf.storage.table import Table
from tests.unit.moto_table import table
from tests.unit.run_world import World, tool_call

__all__ = ["table"]


def event(*bodies: str) -> dict[str, Any]:
    messages = [{"MessageId": f"m{i}", "ReceiptHandle": f"r{i}", "Body": body,
                 "Attributes": {"ApproximateReceiveCount": "1"}} for i, body in enumerate(bodies)]  # fmt: skip
    return sqs_event(messages, "arn:aws:sqs:us-east-1:000000000000:runs-dlq", "us-east-1")


def dead_letter(world: World, task: RunTask) -> dict[str, Any]:
    return make_handler(world.ledger)(event(task.model_dump_json()), LocalContext(function_name="run_dead_letters"))


def settle(world: World, task: RunTask) -> str:
    return DeadLetters(world.ledger).settle(task)


def queued(world: World) -> tuple[RunTask, RunRecord]:
    thread_id, run_id = world.start("Hi")
    return world.queue.sent[-1], world.run(thread_id, run_id)


def test_a_queued_run_whose_message_died_fails_and_frees_its_thread(table: Table) -> None:
    # Given a run whose message was never worked on (every delivery's executor died, say)
    world = World(table)
    task, run = queued(world)
    # When its message reaches the dead-letter handler
    answer = dead_letter(world, task)
    # Then the record succeeded, the run failed with a server error that says why, and its thread is free
    assert answer == {"batchItemFailures": []}
    failed = world.run(run.thread_id, run.id)
    assert (failed.status, failed.last_error) == ("failed", {"code": "server_error", "message": GAVE_UP})
    assert failed.failed_at is not None
    assert world.runs.active_run_id(run.thread_id) is None
    # And a client sees it failed
    assert world.service.retrieve(run.thread_id, run.id).status == "failed"


def test_a_run_whose_step_began_and_died_fails(table: Table) -> None:
    # Given a run its executor took (in_progress, one version on), then died with
    world = World(table)
    task, run = queued(world)
    world.ledger.move(run, "in_progress", {"started_at": 1, "step_started_ms": 1})
    # Then the dead letter fails it
    assert settle(world, task) == "failed"
    assert world.run(run.thread_id, run.id).status == "failed"


def test_a_second_delivery_of_the_dead_letter_changes_nothing(table: Table) -> None:
    world = World(table)
    task, run = queued(world)
    assert settle(world, task) == "failed"
    once = world.run(run.thread_id, run.id)
    # When the same dead letter comes again (SQS delivers at least once)
    assert settle(world, task) == "final"
    # Then the run is as the first one left it
    assert world.run(run.thread_id, run.id) == once


def test_a_finished_run_is_never_touched(table: Table) -> None:
    # Given a run that completed (its executor's last delivery worked after all)
    world = World(table)
    task, run = queued(world)
    world.worker.execute(task)
    done = world.run(run.thread_id, run.id)
    assert done.status == "completed"
    # Then its dead letter leaves it as it is
    assert settle(world, task) == "final"
    assert world.run(run.thread_id, run.id) == done


def test_a_run_in_other_hands_is_left_alone(table: Table) -> None:
    # Given a run that moved on past the message: it waits for tool outputs from the client
    from tests.unit.run_world import ScriptedChat

    world = World(table, ScriptedChat(tool_call(("get_weather", '{"city": "Paris"}'))))
    task, run = queued(world)
    world.worker.execute(task)
    waiting = world.run(run.thread_id, run.id)
    assert waiting.status == "requires_action"
    # Then an old copy of its first message, dead-lettered, does not fail it
    assert settle(world, task) == "stale"
    assert world.run(run.thread_id, run.id) == waiting


def test_a_cancelling_run_is_cancelled_and_an_expired_one_expires(table: Table) -> None:
    world = World(table)
    task, run = queued(world)
    taken = world.ledger.move(run, "in_progress", {"started_at": 1, "step_started_ms": 1})
    world.ledger.move(taken, "cancelling")
    # Then the cancel the dead step never honoured is honoured
    assert settle(world, task) == "cancelled"
    assert world.run(run.thread_id, run.id).status == "cancelled"
    # And a run past its expires_at ends expired, as clients already see it
    task, run = queued(world)
    world.clock.now = run.expires_at + 1
    assert settle(world, task) == "expired"
    assert world.run(run.thread_id, run.id).status == "expired"


def test_a_run_that_is_gone_is_no_failure(table: Table) -> None:
    world = World(table)
    task, run = queued(world)
    world.thread_service.delete(run.thread_id)
    assert dead_letter(world, task) == {"batchItemFailures": []}


def test_a_write_that_loses_a_race_reads_the_run_again(table: Table) -> None:
    # Given a client's cancel that lands between the handler's read and its write
    world = World(table)
    task, run = queued(world)
    fail = world.ledger.fail

    def cancelled_first(current: RunRecord, code: str, message: str) -> RunRecord:
        world.ledger.fail = fail  # type: ignore[method-assign]
        world.ledger.cancel(current)
        return fail(current, code, message)  # now a stale write: ConditionFailed

    world.ledger.fail = cancelled_first  # type: ignore[method-assign]
    # Then the handler sees the run cancelled, and leaves it so
    assert settle(world, task) == "final"
    assert world.run(run.thread_id, run.id).status == "cancelled"


def test_records_that_cannot_be_settled_come_back_alone(table: Table) -> None:
    # Given a batch of a malformed body, a run on busy storage, and a run that can be failed
    world = World(table)
    busy_task, _ = queued(world)
    good_task, good = queued(world)
    get = world.runs.get

    def flaky(thread_id: str, run_id: str) -> RunRecord | None:
        if run_id == busy_task.run_id:
            raise e.ServiceUnavailableError("Storage is busy; retry shortly.")
        return get(thread_id, run_id)

    world.runs.get = flaky  # type: ignore[method-assign]
    batch = event(json.dumps({"x": 1}), busy_task.model_dump_json(), good_task.model_dump_json())
    answer = make_handler(world.ledger)(batch, LocalContext())
    # Then the first two come back (the queue delivers them again), and the third run failed
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}
    assert world.run(good.thread_id, good.id).status == "failed"


def test_with_metrics_disabled_outcomes_do_not_pile_up_dimensions(
    table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given metrics switched off, as `serve` does (a warning would fail the test: filterwarnings=error)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    world = World(table)
    first, _ = queued(world)
    second, _ = queued(world)
    batch = event(first.model_dump_json(), first.model_dump_json(), second.model_dump_json())
    # When records with different outcomes follow each other, then each is its own metric
    assert make_handler(world.ledger)(batch, LocalContext()) == {"batchItemFailures": []}
