"""The threads and messages services against moto, with the world they talk to replaced: the files
a message names, a clock, and a cleanup that fails part-way."""

from __future__ import annotations

import pytest

from openai_cf import errors as e
from openai_cf.schemas import limits as lim
from openai_cf.schemas.messages import MessageCreateParams
from openai_cf.schemas.threads import ThreadCreateParams
from openai_cf.services.messages import MessageBuilder
from openai_cf.services.threads import ThreadsService
from openai_cf.storage.messages import MessageRepository
from openai_cf.storage.pages import PageRequest
from openai_cf.storage.table import Table
from openai_cf.storage.threads import ThreadRepository
from tests.unit.moto_table import raw_items, table

__all__ = ["table"]


class Files:
    """Files that exist, and every lookup made."""

    def __init__(self, *existing: str) -> None:
        self.existing = set(existing)
        self.looked_up: list[str] = []

    def retrieve(self, file_id: str) -> object:
        self.looked_up.append(file_id)
        if file_id not in self.existing:
            raise e.NotFoundError("no such file")
        return object()


def message(*file_ids: str) -> MessageCreateParams:
    return MessageCreateParams.model_validate(
        {"role": "user", "content": "x", "attachments": [{"file_id": f} for f in file_ids]}
    )


def test_each_file_is_looked_up_once_however_often_it_is_named() -> None:
    files = Files("file-a")
    records = MessageBuilder(files, clock=lambda: 1_700_000_000.5).records(
        "thread_1", [message("file-a", "file-a"), message("file-a")], owner="key_1", param="messages"
    )
    assert files.looked_up == ["file-a"]
    assert [r.created_at for r in records] == [1_700_000_000, 1_700_000_000]
    assert [r.id for r in records] == sorted(r.id for r in records)


def test_a_request_naming_too_many_files_is_refused_before_any_lookup() -> None:
    files = Files()
    per_message = [f"file-{i}" for i in range(lim.MAX_ATTACHMENTS)]
    messages = [message(*(f"{m}-{f}" for f in per_message)) for m in range(6)]
    with pytest.raises(e.InvalidRequestError) as refused:
        MessageBuilder(files).records("thread_1", messages, owner="key_1", param="messages")
    assert refused.value.param == "messages[5].attachments[0].file_id"
    assert files.looked_up == []


def test_a_missing_file_is_a_404_naming_where_it_was_named() -> None:
    with pytest.raises(e.NotFoundError) as refused:
        MessageBuilder(Files("file-a")).records(
            "t", [message("file-a"), message("file-b")], owner="o", param="messages"
        )
    assert refused.value.param == "messages[1].attachments[0].file_id"


class FailingCleanup(MessageRepository):
    def remove_all(self, thread_id: str) -> int:
        raise e.ServiceUnavailableError("Storage is busy; retry shortly.")


def test_a_deleted_thread_is_gone_even_if_its_cleanup_fails(table: Table) -> None:
    # Given a thread with a message, whose message cleanup will fail
    threads = ThreadsService(ThreadRepository(table), FailingCleanup(table), MessageBuilder(Files()))
    thread = threads.create(
        ThreadCreateParams.model_validate({"messages": [{"role": "user", "content": "x"}]}), owner="o"
    )
    # When it is deleted, then the delete succeeds and the thread answers 404
    assert threads.delete(thread.id).deleted is True
    with pytest.raises(e.NotFoundError):
        threads.retrieve(thread.id)
    # And the message left behind is unreachable through the thread, until a cleanup removes it
    assert [item["pk"] for item in raw_items(table)] == [f"{thread.id}#message"]
    assert MessageRepository(table).remove_all(thread.id) == 1
    assert MessageRepository(table).page(thread.id, PageRequest()).items == []
