"""Bytes in S3: file contents and upload parts, private and encrypted at rest.

Files go up from a spooled temporary file (never whole in memory) and come down as a stream of
chunks, so neither direction holds a file in the function's memory. The multipart calls are what
`assembly` needs to join upload parts into one file inside S3.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from openai_cf.storage.aws import AwsClients
from openai_cf.storage.table import translated

CHUNK = 256 * 1024
# Every object is encrypted with S3-managed keys (the bucket enforces it too when deployed).
_ENCRYPTED = {"ServerSideEncryption": "AES256"}
_CHECKSUM = "CRC32"

# What CompleteMultipartUpload needs to hear again about one part: its ETag and its checksum.
PartReceipt = dict[str, str]

# The bytes of a file with `expires_after` carry this tag, its value the whole days from now to
# its `expires_at` (rounded up): one bucket lifecycle rule per value deletes them then, as
# DynamoDB's TTL deletes the record. Files expire within 30 days at most (OpenAI's bound).
EXPIRY_TAG = "openai-cf-expire-days"
EXPIRY_TAG_MAX_DAYS = 31


def expiry_tagging(expires_at: float | None, now: float) -> str | None:
    """The `Tagging` of an object that should be deleted from `expires_at` on, or None."""
    if expires_at is None:
        return None
    days = min(EXPIRY_TAG_MAX_DAYS, max(1, math.ceil((expires_at - now) / 86400)))
    return f"{EXPIRY_TAG}={days}"


@dataclass(frozen=True)
class Blob:
    size: int
    content_type: str
    chunks: Iterator[bytes]


class BlobStore:
    def __init__(self, clients: AwsClients, bucket: str) -> None:
        self._clients = clients
        self.bucket = bucket

    @property
    def _s3(self) -> Any:
        return self._clients.client("s3")

    @property
    def client(self) -> Any:
        """The S3 client, for what only it can do (presigning a link)."""
        return self._s3

    def put_file(
        self, key: str, fileobj: IO[bytes], *, content_type: str = "application/octet-stream",
        tagging: str | None = None,
    ) -> None:  # fmt: skip
        extra = {"ContentType": content_type, **_ENCRYPTED, **({"Tagging": tagging} if tagging else {})}
        with translated():
            self._s3.upload_fileobj(fileobj, self.bucket, key, ExtraArgs=extra)

    def put_bytes(self, key: str, data: bytes, *, content_type: str = "application/octet-stream") -> None:
        with translated():
            self._s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, **_ENCRYPTED)

    def open(self, key: str, *, byte_range: tuple[int, int] | None = None) -> Blob:
        """The object, or only its bytes [start, end) when `byte_range` is given."""
        extra = {"Range": f"bytes={byte_range[0]}-{byte_range[1] - 1}"} if byte_range else {}
        with translated():
            answer = self._s3.get_object(Bucket=self.bucket, Key=key, **extra)
        body = answer["Body"]
        return Blob(int(answer["ContentLength"]), answer.get("ContentType") or "application/octet-stream",
                    _chunks(body))  # fmt: skip

    # -- multipart uploads (S3 parts: 5 MiB at least, but the last; numbered from 1) -------------
    # Each part carries a CRC32 that S3 checks, as boto3's own transfer manager does it: the upload
    # is created with the algorithm, and the completion repeats each part's receipt (ETag, CRC32).
    def start_multipart(self, key: str, *, content_type: str, tagging: str | None = None) -> str:
        extra = {"Tagging": tagging} if tagging else {}
        with translated():
            answer = self._s3.create_multipart_upload(Bucket=self.bucket, Key=key, ContentType=content_type,
                                                      ChecksumAlgorithm=_CHECKSUM, **_ENCRYPTED, **extra)  # fmt: skip
        return str(answer["UploadId"])

    def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> PartReceipt:
        with translated():
            answer = self._s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number,
                                          Body=data, ChecksumAlgorithm=_CHECKSUM)  # fmt: skip
        return _receipt(answer)

    def copy_part(
        self, key: str, upload_id: str, number: int, source: str, *, byte_range: tuple[int, int] | None = None
    ) -> PartReceipt:
        """A part copied inside S3 from the object `source` (or its bytes [start, end)); S3 takes a
        range only from objects over 5 MB, so a whole object is copied without one."""
        extra = {"CopySourceRange": f"bytes={byte_range[0]}-{byte_range[1] - 1}"} if byte_range else {}
        with translated():
            answer = self._s3.upload_part_copy(
                Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number,
                CopySource={"Bucket": self.bucket, "Key": source}, **extra,
            )  # fmt: skip
        return _receipt(answer["CopyPartResult"])

    def finish_multipart(self, key: str, upload_id: str, receipts: Sequence[PartReceipt]) -> None:
        parts = [{"PartNumber": number, **receipt} for number, receipt in enumerate(receipts, start=1)]
        with translated():
            self._s3.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                               MultipartUpload={"Parts": parts})  # fmt: skip

    def abort_multipart(self, key: str, upload_id: str) -> None:
        with translated():
            self._s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)

    def delete_prefix(self, prefix: str) -> None:
        """Delete every object whose key starts with `prefix` (e.g. all parts of one upload)."""
        with translated():
            pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
            keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
        self.delete(*keys)

    def delete(self, *keys: str) -> None:
        if not keys:
            return
        with translated():
            for start in range(0, len(keys), 1000):
                batch = [{"Key": key} for key in keys[start : start + 1000]]
                self._s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})


def _receipt(answer: dict[str, Any]) -> PartReceipt:
    receipt = {"ETag": str(answer["ETag"])}
    if answer.get(f"Checksum{_CHECKSUM}"):
        receipt[f"Checksum{_CHECKSUM}"] = str(answer[f"Checksum{_CHECKSUM}"])
    return receipt


def _chunks(body: Any) -> Iterator[bytes]:
    try:
        with translated():
            yield from body.iter_chunks(CHUNK)
    finally:
        body.close()
