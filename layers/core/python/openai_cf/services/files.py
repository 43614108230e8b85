"""Files: bytes in S3, the record in DynamoDB, `processed` at once.

The bytes are stored before the record, and the record is removed before the bytes, so a client
never sees a file whose content is missing; a failure in between leaves at most unreferenced bytes.
Expired files (`expires_after`) answer 404 from their `expires_at` on, before DynamoDB's TTL
removes the record and the bucket's lifecycle rules the bytes (tagged with their expiry).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import IO

from openai_cf import errors as e
from openai_cf.ids import new_id
from openai_cf.schemas.files import ExpiresAfter, FileDeleted, FileListParams, FileObject
from openai_cf.schemas.pagination import CursorPage
from openai_cf.storage.blobs import Blob, BlobStore, expiry_tagging
from openai_cf.storage.files import FileRecord, FileRepository
from openai_cf.storage.pages import PageRequest


def not_found(file_id: str) -> e.NotFoundError:
    return e.NotFoundError(f"No such File object: {file_id}", param="file_id", code="file_not_found")


def page_request(params: FileListParams) -> PageRequest:
    return PageRequest(limit=params.limit, order=params.order, after=params.after, before=params.before)


class FilesService:
    def __init__(self, files: FileRepository, blobs: BlobStore, clock: Callable[[], float] = time.time) -> None:
        self._files = files
        self._blobs = blobs
        self._clock = clock

    def create(
        self, content: IO[bytes], *, size: int, filename: str, purpose: str, content_type: str,
        expires_after: ExpiresAfter | None, owner: str,
    ) -> FileObject:  # fmt: skip
        now = int(self._clock())
        record = FileRecord(
            id=new_id("file-", now_ms=int(self._clock() * 1000)), owner=owner, bytes=size, created_at=now,
            filename=filename, purpose=purpose, content_type=content_type,
            expires_at=now + expires_after.seconds if expires_after else None,
        )  # fmt: skip
        self._blobs.put_file(record.blob_key, content, content_type=content_type,
                             tagging=expiry_tagging(record.expires_at, now))  # fmt: skip
        self._files.add(record)
        return record.to_wire()

    def retrieve(self, file_id: str) -> FileObject:
        return self._record(file_id).to_wire()

    def list(self, params: FileListParams) -> CursorPage[FileObject]:
        page = self._files.page(page_request(params), purpose=params.purpose)
        now = self._clock()
        files = [r.to_wire() for r in page.items if not _expired(r, now)]
        return CursorPage[FileObject](
            data=files,
            first_id=files[0].id if files else None,
            last_id=files[-1].id if files else None,
            has_more=page.has_more,
        )

    def delete(self, file_id: str) -> FileDeleted:
        record = self._record(file_id)
        self._files.remove(record)
        self._blobs.delete(record.blob_key)
        return FileDeleted(id=file_id)

    def content(self, file_id: str) -> tuple[FileRecord, Blob]:
        record = self._record(file_id)
        return record, self._blobs.open(record.blob_key)

    def _record(self, file_id: str) -> FileRecord:
        record = self._files.get(file_id)
        if record is None or _expired(record, self._clock()):
            raise not_found(file_id)
        return record


def _expired(record: FileRecord, now: float) -> bool:
    return record.expires_at is not None and record.expires_at <= now
