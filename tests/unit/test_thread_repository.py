"""ThreadRepository against moto: each thread its own collection; updates that leave others' fields."""

from __future__ import annotations

from dataclasses import replace

from openai_cf.storage.table import Table
from openai_cf.storage.threads import ThreadRecord, ThreadRepository
from tests.contract.validate import assert_matches
from tests.unit.moto_table import raw_items, table

__all__ = ["table"]

THREAD = ThreadRecord(
    id="thread_000000000001aaaaaaaaaaaa", owner="key_1", created_at=1_700_000_000,
    tool_resources={"file_search": {"vector_store_ids": []}}, metadata={"user": "42"},
)  # fmt: skip


def test_a_thread_is_its_own_collection_and_round_trips(table: Table) -> None:
    repo = ThreadRepository(table)
    repo.add(THREAD)
    assert repo.get(THREAD.id) == THREAD
    (item,) = raw_items(table)
    assert (item["pk"], item["sk"], item["owner"]) == (THREAD.id, THREAD.id, "key_1")
    wire = THREAD.to_wire().model_dump(mode="json")
    assert_matches("ThreadObject", wire)
    assert wire == {
        "id": THREAD.id, "object": "thread", "created_at": 1_700_000_000,
        "tool_resources": {"file_search": {"vector_store_ids": []}}, "metadata": {"user": "42"},
    }  # fmt: skip


def test_an_update_keeps_attributes_it_does_not_name(table: Table) -> None:
    # Given a thread item on which the runs work keeps its own attribute
    repo = ThreadRepository(table)
    repo.add(THREAD)
    table.update(THREAD.id, THREAD.id, {"active_run_id": "run_1"})
    # When its metadata changes
    updated = repo.update(THREAD.id, {"metadata": {}})
    # Then only that changed
    assert updated == replace(THREAD, metadata={})
    assert table.get(THREAD.id, THREAD.id)["active_run_id"] == "run_1"  # type: ignore[index]


def test_a_deleted_thread_is_gone_for_updates_too(table: Table) -> None:
    repo = ThreadRepository(table)
    repo.add(THREAD)
    assert repo.remove(THREAD.id) is True
    assert repo.get(THREAD.id) is None
    assert repo.update(THREAD.id, {"metadata": {"a": "b"}}) is None
    assert repo.remove(THREAD.id) is False
    assert raw_items(table) == []
