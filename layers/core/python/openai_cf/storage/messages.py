"""Message records: the `<thread_id>#message` collection, and a copy in `<run_id>#message` for
messages a run wrote, so `messages.list(run_id=…)` is one consistent Query on its own collection.

Both copies are written, updated and deleted in one transaction. A message is written only while
its thread exists (a condition on the thread item in the same transaction), except a new thread's
first messages, which are written before the thread item itself (`add_all`). Content, attachments,
metadata and incomplete details are stored as JSON text (`storage.documents`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from openai_cf.schemas.messages import Message
from openai_cf.storage.documents import from_text, to_text
from openai_cf.storage.pages import Page, PageRequest
from openai_cf.storage.table import MAX_ITEM_BYTES, ConditionFailed, Delete, Put, Table, Update, item_bytes
from openai_cf.storage.threads import thread_exists

_DOCUMENTS = frozenset({"content", "attachments", "metadata", "incomplete_details"})
# Messages read per Query while a deleted thread's messages are removed.
PURGE_PAGE = 100


def in_thread(thread_id: str) -> str:
    return f"{thread_id}#message"


def by_run(run_id: str) -> str:
    return f"{run_id}#message"


@dataclass(frozen=True)
class MessageRecord:
    id: str
    owner: str
    thread_id: str
    created_at: int
    role: str
    # Content blocks in the wire shape: {"type": "text", "text": {"value", "annotations"}}, …
    content: list[dict[str, Any]]
    attachments: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    status: str = "completed"
    assistant_id: str | None = None
    run_id: str | None = None
    completed_at: int | None = None
    incomplete_at: int | None = None
    incomplete_details: dict[str, Any] | None = None

    def to_wire(self) -> Message:
        return Message.model_validate({name: getattr(self, name) for name in Message.model_fields if name != "object"})

    @property
    def collections(self) -> list[str]:
        """Every collection the message is listed in."""
        return [in_thread(self.thread_id), *([by_run(self.run_id)] if self.run_id else [])]


# What an update may change: what a run moves along (status, content, times) and the metadata.
MUTABLE = frozenset(f.name for f in fields(MessageRecord)) - {
    "id",
    "owner",
    "thread_id",
    "created_at",
    "role",
    "run_id",
}


def _attributes(values: dict[str, Any]) -> dict[str, Any]:
    return {name: to_text(value) if name in _DOCUMENTS else value for name, value in values.items()}


def _items(record: MessageRecord) -> list[dict[str, Any]]:
    values = _attributes({f.name: getattr(record, f.name) for f in fields(record)})
    return [{"pk": pk, "sk": record.id, **values} for pk in record.collections]


def _record(item: dict[str, Any]) -> MessageRecord:
    return MessageRecord(
        id=item["id"], owner=item["owner"], thread_id=item["thread_id"], created_at=item["created_at"],
        role=item["role"], content=from_text(item["content"]), attachments=from_text(item["attachments"]),
        metadata=from_text(item["metadata"]), status=item["status"], assistant_id=item.get("assistant_id"),
        run_id=item.get("run_id"), completed_at=item.get("completed_at"), incomplete_at=item.get("incomplete_at"),
        incomplete_details=from_text(item["incomplete_details"]),
    )  # fmt: skip


class MessageRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def puts(self, record: MessageRecord, *, only_if_new: bool = False) -> list[Put]:
        """The writes that store a message (both copies), for a caller's own transaction: a run
        writes its answer together with its own transition, `only_if_new` under a derived id."""
        return [Put(item, only_if_new=only_if_new) for item in _items(record)]

    def add(self, record: MessageRecord, *, only_if_new: bool = False) -> bool:
        """Store a message (a user's, or one a run wrote); False if its thread does not exist (or,
        with `only_if_new`, the message already does)."""
        try:
            self._table.transact([thread_exists(record.thread_id), *self.puts(record, only_if_new=only_if_new)])
        except ConditionFailed:
            return False
        return True

    @staticmethod
    def fits(record: MessageRecord) -> bool:
        """Whether the message can be stored (each copy is one item of at most `MAX_ITEM_BYTES`)."""
        return all(item_bytes(item) <= MAX_ITEM_BYTES for item in _items(record))

    def add_all(self, records: list[MessageRecord]) -> None:
        """A new thread's first messages, written before the thread item (so without the check)."""
        self._table.put_many([item for record in records for item in _items(record)])

    def get(self, thread_id: str, message_id: str) -> MessageRecord | None:
        item = self._table.get(in_thread(thread_id), message_id)
        return _record(item) if item else None

    def update(self, record: MessageRecord, changes: dict[str, Any]) -> MessageRecord | None:
        """Set the given fields on every copy of the message; None if it no longer exists."""
        unknown = set(changes) - MUTABLE
        if unknown:
            raise ValueError(f"not changeable: {sorted(unknown)}")
        values = _attributes(changes)
        try:
            self._table.transact([Update(pk, record.id, values) for pk in record.collections])
        except ConditionFailed:
            return None
        return replace(record, **changes)

    def remove(self, record: MessageRecord) -> None:
        self._table.transact([Delete(pk, record.id) for pk in record.collections])

    def page(self, thread_id: str, page: PageRequest, *, run_id: str | None = None) -> Page[MessageRecord]:
        if run_id is None:
            return self._table.query_page(in_thread(thread_id), page, _record)
        found = self._table.query_page(by_run(run_id), page, _record)
        # A run belongs to one thread: another thread's run id lists nothing here.
        items = [record for record in found.items if record.thread_id == thread_id]
        return Page(items, found.has_more and len(items) == len(found.items))

    def remove_all(self, thread_id: str) -> int:
        """Delete every message of a thread, a page at a time; how many there were."""
        removed = 0
        after: str | None = None
        while True:
            found = self._table.query_page(in_thread(thread_id), PageRequest(PURGE_PAGE, "asc", after), _record)
            self._table.delete_many([(pk, record.id) for record in found.items for pk in record.collections])
            removed += len(found.items)
            if not found.has_more:
                return removed
            after = found.items[-1].id
