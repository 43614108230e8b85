"""Run and run step records against moto: the thread's active-run marker, transitions conditional
on the run's version, what a client sees of a run (lazy expiry), and removal with the thread."""

from __future__ import annotations

from dataclasses import replace

import pytest

from openai_cf.storage.pages import PageRequest
from openai_cf.storage.run_steps import StepRecord, StepRepository
from openai_cf.storage.runs import RunRecord, RunRepository
from openai_cf.storage.table import ConditionFailed, Table
from openai_cf.storage.threads import ThreadRecord, ThreadRepository
from tests.unit.moto_table import raw_items, table

__all__ = ["table"]

NOW = 1_700_000_000


def thread(table: Table, thread_id: str = "thread_1") -> str:
    ThreadRepository(table).add(ThreadRecord(id=thread_id, owner="key_1", created_at=NOW))
    return thread_id


def run(run_id: str = "run_1", thread_id: str = "thread_1", **values: object) -> RunRecord:
    base = RunRecord(
        id=run_id, owner="key_1", thread_id=thread_id, assistant_id="asst_1", created_at=NOW, status="queued",
        model="gpt-4o-mini", instructions="Be brief.", expires_at=NOW + 600,
    )  # fmt: skip
    return replace(base, **values)  # type: ignore[arg-type]


def step(step_id: str, run_id: str = "run_1") -> StepRecord:
    return StepRecord(
        id=step_id, owner="key_1", thread_id="thread_1", run_id=run_id, assistant_id="asst_1", created_at=NOW,
        type="message_creation", status="completed",
        step_details={"type": "message_creation", "message_creation": {"message_id": "msg_1"}},
        usage={"prompt_tokens": 3, "completion_tokens": 4},
    )  # fmt: skip


def test_a_run_claims_its_thread_until_it_releases_it(table: Table) -> None:
    runs = RunRepository(table)
    thread(table)
    # Given an active run on the thread
    runs.add(run("run_1"), now=NOW)
    assert runs.active_run_id("thread_1") == "run_1"
    # When a second run is added, then it is refused and not stored
    with pytest.raises(ConditionFailed):
        runs.add(run("run_2"), now=NOW)
    assert runs.get("thread_1", "run_2") is None
    # When another run's release comes, then the marker stays; the run's own release clears it
    runs.release("thread_1", "run_2")
    assert runs.active_run_id("thread_1") == "run_1"
    runs.release("thread_1", "run_1")
    assert runs.active_run_id("thread_1") is None
    runs.add(run("run_2"), now=NOW)
    assert runs.active_run_id("thread_1") == "run_2"


def test_an_expired_run_does_not_hold_its_thread(table: Table) -> None:
    runs = RunRepository(table)
    thread(table)
    runs.add(run("run_1"), now=NOW)
    # When the first run's expiry has passed, then a new run may take the thread
    runs.add(run("run_2", expires_at=NOW + 1200), now=NOW + 600)
    assert runs.active_run_id("thread_1") == "run_2"


def test_a_run_needs_its_thread(table: Table) -> None:
    with pytest.raises(ConditionFailed):
        RunRepository(table).add(run(), now=NOW)
    assert raw_items(table) == []


def test_of_two_writers_that_read_the_same_version_one_moves_the_run(table: Table) -> None:
    runs = RunRepository(table)
    thread(table)
    runs.add(run(), now=NOW)
    read_once = runs.get("thread_1", "run_1")
    assert read_once is not None
    # When one writer moves the run
    moved = runs.transition(read_once, {"status": "in_progress", "started_at": NOW})
    assert (moved.status, moved.version) == ("in_progress", 2)
    # Then the other, holding the same read, cannot
    with pytest.raises(ConditionFailed):
        runs.transition(read_once, {"status": "cancelled"})
    assert runs.get("thread_1", "run_1") == moved


def test_a_transition_writes_its_records_or_nothing(table: Table) -> None:
    runs, steps = RunRepository(table), StepRepository(table)
    thread(table)
    runs.add(run(), now=NOW)
    current = runs.get("thread_1", "run_1")
    assert current is not None
    moved = runs.transition(current, {"status": "completed"}, also=[steps.put(step("step_1"))])
    # When the same step is written again with the next transition (a redelivered message)
    with pytest.raises(ConditionFailed):
        runs.transition(moved, {"status": "failed"}, also=[steps.put(step("step_1"))])
    # Then the run did not move and there is still one step
    assert runs.get("thread_1", "run_1") == moved
    assert [s.id for s in steps.all("run_1")] == ["step_1"]


def test_what_a_client_sees_of_a_run() -> None:
    queued = run(usage={"prompt_tokens": 1, "completion_tokens": 2}, required_action={"type": "x"})
    # An active run shows no usage, no required action unless it requires one, and its expiry
    wire = queued.to_wire(NOW)
    assert (wire.status, wire.usage, wire.required_action, wire.expires_at) == ("queued", None, None, NOW + 600)
    # Read at its expiry, it has expired, whatever its item says
    assert queued.to_wire(NOW + 600).status == "expired"
    assert queued.to_wire(NOW + 600).expires_at is None
    # A finished run shows its usage with the total
    done = replace(queued, status="completed").to_wire(NOW + 600)
    assert done.usage is not None
    assert done.usage.total_tokens == 3
    assert done.truncation_strategy.type == "auto"


def test_a_threads_runs_and_steps_are_removed_together(table: Table) -> None:
    runs, steps = RunRepository(table), StepRepository(table)
    thread(table)
    runs.add(run("run_1"), now=NOW)
    runs.release("thread_1", "run_1")
    runs.add(run("run_2"), now=NOW)
    for i in range(3):
        current = runs.get("thread_1", "run_1")
        assert current is not None
        runs.transition(current, {}, also=[steps.put(step(f"step_{i}"))])
    assert len(runs.page("thread_1", PageRequest()).items) == 2
    # When the thread's runs are removed
    assert runs.remove_all("thread_1") == 2
    # Then only the thread item is left
    assert [item["pk"] for item in raw_items(table)] == ["thread_1"]


def test_step_usage_is_hidden_while_the_step_is_in_progress() -> None:
    done = step("step_1")
    assert done.to_wire().usage is not None
    assert replace(done, status="in_progress").to_wire().usage is None
