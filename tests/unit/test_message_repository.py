"""MessageRepository against moto: both collections kept together, writes only into live threads,
pages in both orders, the run filter, and a deleted thread's messages removed a page at a time."""

from __future__ import annotations

from dataclasses import replace

import pytest

from openai_cf.ids import new_ids
from openai_cf.storage import messages as storage
from openai_cf.storage.messages import MessageRecord, MessageRepository, by_run, in_thread
from openai_cf.storage.pages import PageRequest
from openai_cf.storage.table import Table
from openai_cf.storage.threads import ThreadRecord, ThreadRepository
from tests.contract.validate import assert_matches
from tests.unit.moto_table import raw_items, table

__all__ = ["table"]

THREAD = "thread_000000000001aaaaaaaaaaaa"
TEXT = [{"type": "text", "text": {"value": "Hi", "annotations": []}}]


def message(message_id: str, *, run_id: str | None = None, thread_id: str = THREAD) -> MessageRecord:
    return MessageRecord(
        id=message_id, owner="key_1", thread_id=thread_id, created_at=1_700_000_000, role="user", content=TEXT,
        attachments=[{"file_id": "file-1", "tools": [{"type": "file_search"}]}], metadata={"m": "1"},
        completed_at=1_700_000_000, run_id=run_id, assistant_id="asst_1" if run_id else None,
    )  # fmt: skip


@pytest.fixture
def repo(table: Table) -> MessageRepository:
    ThreadRepository(table).add(ThreadRecord(id=THREAD, owner="key_1", created_at=1))
    return MessageRepository(table)


def ids_in_pages(repo: MessageRepository, order: str, run_id: str | None = None) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        page = repo.page(THREAD, PageRequest(limit=2, order=order, after=after), run_id=run_id)  # type: ignore[arg-type]
        seen += [r.id for r in page.items]
        if not page.has_more:
            return seen
        after = page.items[-1].id


def test_a_message_round_trips_and_maps_to_openais_shape(repo: MessageRepository) -> None:
    record = message("msg_1")
    assert repo.add(record) is True
    assert repo.get(THREAD, "msg_1") == record
    wire = record.to_wire().model_dump(mode="json")
    assert_matches("MessageObject", wire)
    assert wire["content"] == TEXT
    assert (wire["status"], wire["run_id"], wire["assistant_id"], wire["incomplete_details"]) == (
        "completed", None, None, None,
    )  # fmt: skip


def test_a_run_message_is_copied_into_its_runs_collection(repo: MessageRepository, table: Table) -> None:
    # Given one message written by a run and one by the user
    repo.add(message("msg_1"))
    repo.add(message("msg_2", run_id="run_1"))
    # Then the run's message is in both collections, the user's only in the thread's
    keys = sorted((item["pk"], item["sk"]) for item in raw_items(table) if item["sk"].startswith("msg_"))  # type: ignore[union-attr]
    assert keys == [(by_run("run_1"), "msg_2"), (in_thread(THREAD), "msg_1"), (in_thread(THREAD), "msg_2")]
    assert [r.id for r in repo.page(THREAD, PageRequest(), run_id="run_1").items] == ["msg_2"]
    # And an update or a delete reaches both copies
    updated = repo.update(message("msg_2", run_id="run_1"), {"metadata": {"x": "y"}, "status": "incomplete"})
    assert updated is not None
    assert repo.page(THREAD, PageRequest(), run_id="run_1").items == [updated]
    repo.remove(updated)
    assert repo.page(THREAD, PageRequest(), run_id="run_1").items == []
    assert [r.id for r in repo.page(THREAD, PageRequest()).items] == ["msg_1"]


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_pages_in_both_orders_with_and_without_the_run_filter(repo: MessageRepository, order: str) -> None:
    ids = new_ids("msg_", 7, now_ms=1_700_000_000_000)
    for i, message_id in enumerate(ids):
        repo.add(message(message_id, run_id="run_1" if i % 2 else None))
    in_order = ids if order == "asc" else ids[::-1]
    assert ids_in_pages(repo, order) == in_order
    assert ids_in_pages(repo, order, run_id="run_1") == [i for i in in_order if ids.index(i) % 2]


def test_another_threads_run_lists_nothing(repo: MessageRepository, table: Table) -> None:
    ThreadRepository(table).add(ThreadRecord(id="thread_other", owner="key_1", created_at=1))
    repo.add(message("msg_1", run_id="run_elsewhere", thread_id="thread_other"))
    page = repo.page(THREAD, PageRequest(), run_id="run_elsewhere")
    assert (page.items, page.has_more) == ([], False)


def test_no_message_is_written_into_a_missing_thread(repo: MessageRepository, table: Table) -> None:
    assert repo.add(message("msg_1", thread_id="thread_missing", run_id="run_1")) is False
    assert [i for i in raw_items(table) if i["sk"] == "msg_1"] == []


def test_only_if_new_keeps_a_repeated_write_from_duplicating(repo: MessageRepository) -> None:
    record = message("msg_run_derived", run_id="run_1")
    assert repo.add(record, only_if_new=True) is True
    assert repo.add(replace(record, content=[]), only_if_new=True) is False
    assert repo.get(THREAD, record.id) == record


def test_an_update_of_a_deleted_message_changes_nothing(repo: MessageRepository, table: Table) -> None:
    record = message("msg_1", run_id="run_1")
    repo.add(record)
    repo.remove(record)
    assert repo.update(record, {"metadata": {}}) is None
    assert [i for i in raw_items(table) if i["sk"] == "msg_1"] == []


def test_first_messages_are_written_without_the_thread(table: Table) -> None:
    repo = MessageRepository(table)
    repo.add_all([message("msg_1", thread_id="thread_new"), message("msg_2", thread_id="thread_new")])
    assert [r.id for r in repo.page("thread_new", PageRequest(order="asc")).items] == ["msg_1", "msg_2"]


def test_remove_all_deletes_every_message_and_copy_page_by_page(
    repo: MessageRepository, table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given more messages than one purge page, some with run copies, and another thread's message
    monkeypatch.setattr(storage, "PURGE_PAGE", 3)
    for i, message_id in enumerate(new_ids("msg_", 8, now_ms=1_700_000_000_000)):
        repo.add(message(message_id, run_id="run_1" if i % 3 == 0 else None))
    repo.add_all([message("msg_keep", thread_id="thread_other")])
    # When the thread's messages are removed
    assert repo.remove_all(THREAD) == 8
    # Then only the thread item and the other thread's message are left
    assert sorted(str(item["pk"]) for item in raw_items(table)) == [THREAD, in_thread("thread_other")]


def test_identity_fields_cannot_be_updated(repo: MessageRepository) -> None:
    with pytest.raises(ValueError, match="run_id"):
        repo.update(message("msg_1"), {"run_id": "run_2"})


def test_fits_tells_what_one_item_can_hold() -> None:
    assert MessageRepository.fits(message("msg_1"))
    big = [{"type": "text", "text": {"value": "€" * 120_000, "annotations": []}}]
    assert not MessageRepository.fits(replace(message("msg_1"), content=big))
