"""Uploads: a file sent in parts, each under the one-request limit, then joined into a File.

create → `pending` for an hour; each part's bytes go to S3 before its record, and only while the
upload is pending; complete joins the named parts in S3 (`storage.assembly`, never the whole file
in memory), checks the size and an md5 if given, and writes the File's records and the completed
upload in one conditional transaction, so the File then works with the whole Files API. A failed
check leaves the upload pending, to be completed again. Cancel and complete remove the part bytes
at once; part records expire with DynamoDB's TTL, and anything left behind in S3 with the bucket's
lifecycle rule.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import IO

from openai_cf import errors as e
from openai_cf.ids import new_id
from openai_cf.schemas.uploads import Upload, UploadCompleteParams, UploadCreateParams, UploadPart
from openai_cf.storage import assembly
from openai_cf.storage.blobs import BlobStore, expiry_tagging
from openai_cf.storage.files import FileRecord
from openai_cf.storage.table import ConditionFailed
from openai_cf.storage.uploads import (
    ID_PREFIX,
    PART_ID_PREFIX,
    PartRecord,
    UploadRecord,
    UploadRepository,
    part_prefix,
)

# OpenAI: an Upload "expires after an hour after you create it".
UPLOAD_LIFETIME_SECONDS = 3600


def not_found(upload_id: str) -> e.NotFoundError:
    return e.NotFoundError(f"No such Upload object: {upload_id}", param="upload_id", code="upload_not_found")


def not_pending(record: UploadRecord, now: float) -> e.InvalidRequestError:
    """Why an upload takes no more parts, completion or cancel: it is completed, cancelled or expired."""
    status = record.status_at(now)
    if status == "expired":
        message = (
            f"Upload {record.id} expired at {record.expires_at} (an hour after it was created) before it was "
            "completed. Create a new Upload and send its parts again."
        )
    elif status == "completed":
        message = f"Upload {record.id} is already completed (as {record.file_id}); it cannot change any more."
    else:
        message = f"Upload {record.id} was cancelled; it cannot change any more."
    return e.InvalidRequestError(message, code=f"upload_{status}")


class UploadsService:
    def __init__(
        self, uploads: UploadRepository, blobs: BlobStore, *, clock: Callable[[], float] = time.time,
        limits: assembly.Limits | None = None,
    ) -> None:  # fmt: skip
        self._uploads = uploads
        self._blobs = blobs
        self._clock = clock
        self._limits = limits or assembly.Limits()

    def create(self, params: UploadCreateParams, *, owner: str) -> Upload:
        now = self._clock()
        record = UploadRecord(
            id=new_id(ID_PREFIX, now_ms=int(now * 1000)), owner=owner, bytes=params.bytes, created_at=int(now),
            expires_at=int(now) + UPLOAD_LIFETIME_SECONDS, filename=params.filename, purpose=params.purpose,
            mime_type=params.mime_type,
            file_expires_after=params.expires_after.seconds if params.expires_after else None,
        )  # fmt: skip
        self._uploads.add(record)
        return record.to_wire(now)

    def add_part(self, upload_id: str, content: IO[bytes], *, size: int, owner: str) -> UploadPart:
        now = self._clock()
        record = self._pending(upload_id, now)
        if size <= 0:
            raise e.InvalidRequestError("The part is empty.", param="data", code="empty_part")
        part = PartRecord(id=new_id(PART_ID_PREFIX, now_ms=int(now * 1000)), upload_id=record.id, owner=owner,
                          bytes=size, created_at=int(now))  # fmt: skip
        self._blobs.put_file(part.blob_key, content)
        try:
            self._uploads.add_part(part, expires_at=record.expires_at, now=int(now))
        except ConditionFailed:
            # Completed, cancelled or expired while the bytes travelled: they belong to nothing.
            self._blobs.delete(part.blob_key)
            raise self._changed(upload_id, now) from None
        return part.to_wire()

    def complete(self, upload_id: str, params: UploadCompleteParams, *, owner: str) -> Upload:
        now = self._clock()
        record = self._pending(upload_id, now)
        parts = self._parts_in_order(record, params.part_ids)
        file = self._file_record(record, owner)
        self._assemble(record, parts, file, params.md5, now)
        # Pending when asked is what counts: an upload that expires while its parts are joined
        # still completes (the check below is against the time of the request).
        try:
            done = self._uploads.complete(record, file, now=int(now))
        except ConditionFailed:
            # Another completion or a cancel landed first: this copy of the bytes is nobody's.
            self._blobs.delete(file.blob_key)
            raise self._changed(upload_id, now) from None
        self._blobs.delete_prefix(part_prefix(record.id))
        return done.to_wire(now, file.to_wire())

    def cancel(self, upload_id: str) -> Upload:
        now = self._clock()
        record = self._existing(upload_id)
        if record.status_at(now) == "pending":
            try:
                record = self._uploads.cancel(upload_id, now=int(now))
            except ConditionFailed:
                record = self._existing(upload_id)  # a completion or another cancel landed first
        if record.status_at(now) == "completed":
            raise not_pending(record, now)
        # Cancelled (now or before) or expired: either way its parts are of no more use. Cancelling
        # twice answers the same, so a client may retry a cancel whose answer it lost.
        self._blobs.delete_prefix(part_prefix(record.id))
        return record.to_wire(now)

    # -- helpers -------------------------------------------------------------------------------
    def _existing(self, upload_id: str) -> UploadRecord:
        record = self._uploads.get(upload_id)
        if record is None:
            raise not_found(upload_id)
        return record

    def _pending(self, upload_id: str, now: float) -> UploadRecord:
        record = self._existing(upload_id)
        if record.status_at(now) != "pending":
            raise not_pending(record, now)
        return record

    def _changed(self, upload_id: str, now: float) -> e.OpenAICFError:
        record = self._uploads.get(upload_id)
        return not_found(upload_id) if record is None else not_pending(record, now)

    def _parts_in_order(self, record: UploadRecord, part_ids: Sequence[str]) -> list[PartRecord]:
        seen: set[str] = set()
        for part_id in part_ids:
            if part_id in seen:
                raise e.InvalidRequestError(f"Part {part_id} is listed more than once.", param="part_ids")
            seen.add(part_id)
        found = self._uploads.parts(record.id, part_ids)
        missing = [part_id for part_id in part_ids if part_id not in found]
        if missing:
            raise e.InvalidRequestError(
                f"No Part {missing[0]} in Upload {record.id} (unknown, or a part of another Upload).",
                param="part_ids",
            )
        parts = [found[part_id] for part_id in part_ids]
        total = sum(part.bytes for part in parts)
        if total != record.bytes:
            raise e.InvalidRequestError(
                f"The parts hold {total} bytes, but Upload {record.id} was created with bytes={record.bytes}.",
                param="part_ids",
            )
        return parts

    def _file_record(self, record: UploadRecord, owner: str) -> FileRecord:
        now = self._clock()
        created = int(now)
        expires_at = created + record.file_expires_after if record.file_expires_after else None
        return FileRecord(
            id=new_id("file-", now_ms=int(now * 1000)), owner=owner, bytes=record.bytes, created_at=created,
            filename=record.filename, purpose=record.purpose, content_type=record.mime_type, expires_at=expires_at,
        )  # fmt: skip

    def _assemble(
        self, record: UploadRecord, parts: Sequence[PartRecord], file: FileRecord, md5: str | None, now: float
    ) -> None:
        sources = [assembly.Source(part.blob_key, part.bytes) for part in parts]
        try:
            assembly.assemble(self._blobs, sources, file.blob_key, content_type=record.mime_type,
                              limits=self._limits, md5=md5,
                              tagging=expiry_tagging(file.expires_at, file.created_at))  # fmt: skip
        except assembly.DigestMismatch as exc:
            raise e.InvalidRequestError(
                f"The md5 of the parts joined in this order is {exc.actual}, not {md5}; the Upload is still pending.",
                param="md5", code="md5_mismatch",
            ) from None  # fmt: skip
        except assembly.TooManyParts as exc:
            raise e.InvalidRequestError(f"These parts cannot be joined: {exc}. Send fewer, larger parts.",
                                        param="part_ids") from None  # fmt: skip
        except e.OpenAICFError:
            # A part's bytes vanished mid-way because a cancel landed: say that, not "storage error".
            current = self._uploads.get(record.id)
            if current is not None and current.status_at(now) != "pending":
                raise not_pending(current, now) from None
            raise
