"""Upload records: an upload is its own collection (`pk = sk = upload_id`), its parts the
collection `<upload_id>#part`, their bytes the S3 objects `uploads/<upload_id>/<part_id>`.

Uploads are never listed, so each one spreads its parts over its own partition. Every change of
state is a conditional write on the upload's item ("still pending, not yet expired at `now`"):
a part is added in one transaction with that check, completion writes the File's items and the
completed upload together under it, and cancelling is a conditional update. Two completions,
or a completion and a cancel, can therefore both run but only one of them lands.

`expired` is never stored: it is a pending upload read at or after its `expires_at`. Items carry
a `ttl` a day past `expires_at`, so DynamoDB removes abandoned uploads and their parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from openai_cf.schemas.files import FileObject
from openai_cf.schemas.uploads import Upload, UploadPart, UploadStatus
from openai_cf.storage.files import TTL_GRACE_SECONDS, FileRecord, FileRepository
from openai_cf.storage.table import Check, Table

ID_PREFIX = "upload_"
PART_ID_PREFIX = "part_"
# S3 keys of part bytes; the bucket's lifecycle rule expires this prefix (infra/constructs/storage.py).
PARTS_PREFIX = "uploads/"


def parts_of(upload_id: str) -> str:
    return f"{upload_id}#part"


def part_prefix(upload_id: str) -> str:
    return f"{PARTS_PREFIX}{upload_id}/"


@dataclass(frozen=True)
class UploadRecord:
    id: str
    owner: str
    bytes: int
    created_at: int
    expires_at: int
    filename: str
    purpose: str
    mime_type: str
    # Stored: pending, completed or cancelled.
    status: str = "pending"
    # The completed File's `expires_after` seconds, counted from the File's creation.
    file_expires_after: int | None = None
    file_id: str | None = None

    def status_at(self, now: float) -> UploadStatus:
        if self.status == "pending":
            return "expired" if now >= self.expires_at else "pending"
        return "completed" if self.status == "completed" else "cancelled"

    def to_wire(self, now: float, file: FileObject | None = None) -> Upload:
        return Upload(
            id=self.id, bytes=self.bytes, created_at=self.created_at, expires_at=self.expires_at,
            filename=self.filename, purpose=self.purpose, status=self.status_at(now), file=file,
        )  # fmt: skip


@dataclass(frozen=True)
class PartRecord:
    id: str
    upload_id: str
    owner: str
    bytes: int
    created_at: int

    @property
    def blob_key(self) -> str:
        return f"{part_prefix(self.upload_id)}{self.id}"

    def to_wire(self) -> UploadPart:
        return UploadPart(id=self.id, created_at=self.created_at, upload_id=self.upload_id)


def _upload_item(record: UploadRecord) -> dict[str, Any]:
    return {"pk": record.id, "sk": record.id, **asdict(record), "ttl": record.expires_at + TTL_GRACE_SECONDS}


def _upload(item: dict[str, Any]) -> UploadRecord:
    return UploadRecord(
        id=item["id"], owner=item["owner"], bytes=item["bytes"], created_at=item["created_at"],
        expires_at=item["expires_at"], filename=item["filename"], purpose=item["purpose"],
        mime_type=item["mime_type"], status=item["status"], file_expires_after=item.get("file_expires_after"),
        file_id=item.get("file_id"),
    )  # fmt: skip


def _part(item: dict[str, Any]) -> PartRecord:
    return PartRecord(id=item["id"], upload_id=item["upload_id"], owner=item["owner"], bytes=item["bytes"],
                      created_at=item["created_at"])  # fmt: skip


def _pending(upload_id: str, now: int) -> Check:
    return Check(
        upload_id, upload_id, "#status = :pending AND expires_at > :now",
        values={":pending": "pending", ":now": now}, names={"#status": "status"},
    )  # fmt: skip


class UploadRepository:
    def __init__(self, table: Table, files: FileRepository) -> None:
        self._table = table
        self._files = files

    def add(self, record: UploadRecord) -> None:
        self._table.put(_upload_item(record), only_if_new=True)

    def get(self, upload_id: str) -> UploadRecord | None:
        # Only ids of ours: any other string would name some other collection's key.
        if not upload_id.startswith(ID_PREFIX):
            return None
        item = self._table.get(upload_id, upload_id)
        return _upload(item) if item else None

    def add_part(self, part: PartRecord, *, expires_at: int, now: int) -> None:
        """Record a part if its upload is still pending at `now` (`ConditionFailed` otherwise)."""
        item = {"pk": parts_of(part.upload_id), "sk": part.id, **asdict(part), "ttl": expires_at + TTL_GRACE_SECONDS}
        self._table.write_together([item], checks=[_pending(part.upload_id, now)])

    def parts(self, upload_id: str, part_ids: Sequence[str]) -> dict[str, PartRecord]:
        """The parts of this upload among `part_ids`, by id (ids of other uploads are not found)."""
        items = self._table.get_many([(parts_of(upload_id), part_id) for part_id in part_ids])
        return {item["id"]: _part(item) for item in items}

    def complete(self, record: UploadRecord, file: FileRecord, *, now: int) -> UploadRecord:
        """The upload completed as `file`, written with the File's own items, if still pending at `now`."""
        done = replace(record, status="completed", file_id=file.id)
        self._files.add(file, together=[_upload_item(done)], checks=[_pending(record.id, now)])
        return done

    def cancel(self, upload_id: str, *, now: int) -> UploadRecord:
        """Cancel the upload if still pending at `now` (`ConditionFailed` otherwise)."""
        item = self._table.update(
            upload_id, upload_id, {"status": "cancelled"}, condition="#a0 = :pending AND expires_at > :now",
            condition_values={":pending": "pending", ":now": now},
        )  # fmt: skip
        return _upload(item)
