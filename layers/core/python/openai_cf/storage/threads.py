"""Thread records: each thread is its own collection (`pk = sk = thread_id`), since OpenAI never
lists threads; that spreads load instead of piling every thread onto one partition.

The thread item is what makes a thread exist: its messages are written before it on creation and
removed after it on deletion, and every message operation checks it, so a thread answers 404 the
moment its item is gone. Updates set only the fields they name, so attributes the runs work keeps
on the item (`active_run_id`) are never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from openai_cf.schemas.assistants import ToolResources
from openai_cf.schemas.threads import Thread
from openai_cf.storage.documents import from_text, to_text
from openai_cf.storage.table import Check, ConditionFailed, Table

_DOCUMENTS = frozenset({"tool_resources", "metadata"})
MUTABLE = _DOCUMENTS


def thread_key(thread_id: str) -> tuple[str, str]:
    return thread_id, thread_id


def thread_exists(thread_id: str) -> Check:
    """A transaction operation that holds only while the thread exists (for writes into it)."""
    return Check(*thread_key(thread_id))


@dataclass(frozen=True)
class ThreadRecord:
    id: str
    owner: str
    created_at: int
    tool_resources: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)

    def to_wire(self) -> Thread:
        return Thread(id=self.id, created_at=self.created_at, metadata=self.metadata,
                      tool_resources=ToolResources.model_validate(self.tool_resources))  # fmt: skip


def _attributes(values: dict[str, Any]) -> dict[str, Any]:
    return {name: to_text(value) if name in _DOCUMENTS else value for name, value in values.items()}


def _item(record: ThreadRecord) -> dict[str, Any]:
    pk, sk = thread_key(record.id)
    return {"pk": pk, "sk": sk, "id": record.id, "owner": record.owner, "created_at": record.created_at,
            **_attributes({"tool_resources": record.tool_resources, "metadata": record.metadata})}  # fmt: skip


def _record(item: dict[str, Any]) -> ThreadRecord:
    return ThreadRecord(
        id=item["id"], owner=item["owner"], created_at=item["created_at"],
        tool_resources=from_text(item["tool_resources"]), metadata=from_text(item["metadata"]),
    )  # fmt: skip


class ThreadRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def add(self, record: ThreadRecord) -> None:
        self._table.put(_item(record), only_if_new=True)

    def get(self, thread_id: str) -> ThreadRecord | None:
        item = self._table.get(*thread_key(thread_id))
        return _record(item) if item else None

    def update(self, thread_id: str, changes: dict[str, Any]) -> ThreadRecord | None:
        """Set the given fields (`metadata`, `tool_resources`) and only those; None if the thread
        does not exist."""
        unknown = set(changes) - MUTABLE
        if unknown:
            raise ValueError(f"not changeable: {sorted(unknown)}")
        if not changes:
            return self.get(thread_id)
        try:
            return _record(self._table.update(*thread_key(thread_id), _attributes(changes)))
        except ConditionFailed:
            return None

    def remove(self, thread_id: str) -> bool:
        """Delete the thread item (its messages are the caller's: `MessageRepository.remove_all`)."""
        return self._table.delete(*thread_key(thread_id)) is not None
