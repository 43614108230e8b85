"""File records: one item in the `file` collection and a copy in `file#purpose#<purpose>`.

The copy makes `files.list(purpose=…)` one consistent Query on its own collection, instead of a
filter over every file; both items are written and deleted together. The bytes are the S3 object
`files/<id>` (`blob_key`), also for files assembled by the Uploads API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from openai_cf.schemas.files import FileObject
from openai_cf.storage.pages import Page, PageRequest
from openai_cf.storage.table import Check, Table

FILES = "file"
# DynamoDB's TTL removes expired items within days; reads hide them from their `expires_at` on.
TTL_GRACE_SECONDS = 24 * 3600


def by_purpose(purpose: str) -> str:
    return f"file#purpose#{purpose}"


@dataclass(frozen=True)
class FileRecord:
    id: str
    owner: str
    bytes: int
    created_at: int
    filename: str
    purpose: str
    content_type: str
    expires_at: int | None = None

    @property
    def blob_key(self) -> str:
        return f"files/{self.id}"

    def to_wire(self) -> FileObject:
        return FileObject(id=self.id, bytes=self.bytes, created_at=self.created_at, filename=self.filename,
                          purpose=self.purpose, expires_at=self.expires_at)  # fmt: skip


def _item(record: FileRecord, pk: str) -> dict[str, Any]:
    item = {"pk": pk, "sk": record.id, **asdict(record)}
    if record.expires_at is not None:
        item["ttl"] = record.expires_at + TTL_GRACE_SECONDS
    return item


def _record(item: dict[str, Any]) -> FileRecord:
    return FileRecord(
        id=item["id"], owner=item["owner"], bytes=item["bytes"], created_at=item["created_at"],
        filename=item["filename"], purpose=item["purpose"], content_type=item["content_type"],
        expires_at=item.get("expires_at"),
    )  # fmt: skip


class FileRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def add(self, record: FileRecord, *, together: Sequence[dict[str, Any]] = (), checks: Sequence[Check] = ()) -> None:
        """Store the file's items, with `together` (other items written in the same transaction,
        e.g. the Upload that became this file) if every check holds (`ConditionFailed` otherwise)."""
        items = [_item(record, FILES), _item(record, by_purpose(record.purpose)), *together]
        self._table.write_together(items, checks=checks)

    def get(self, file_id: str) -> FileRecord | None:
        item = self._table.get(FILES, file_id)
        return _record(item) if item else None

    def remove(self, record: FileRecord) -> None:
        self._table.write_together([], deletes=[(FILES, record.id), (by_purpose(record.purpose), record.id)])

    def page(self, page: PageRequest, *, purpose: str | None = None) -> Page[FileRecord]:
        return self._table.query_page(by_purpose(purpose) if purpose else FILES, page, _record)
