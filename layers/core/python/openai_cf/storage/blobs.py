"""Bytes in S3: file contents and upload parts, private and encrypted at rest.

Files go up from a spooled temporary file (never whole in memory) and come down as a stream of
chunks, so neither direction holds a file in the function's memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from openai_cf.storage.aws import AwsClients
from openai_cf.storage.table import translated

CHUNK = 256 * 1024
# Every object is encrypted with S3-managed keys (the bucket enforces it too when deployed).
_ENCRYPTED = {"ServerSideEncryption": "AES256"}


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

    def put_file(self, key: str, fileobj: IO[bytes], *, content_type: str = "application/octet-stream") -> None:
        with translated():
            self._s3.upload_fileobj(fileobj, self.bucket, key, ExtraArgs={"ContentType": content_type, **_ENCRYPTED})

    def put_bytes(self, key: str, data: bytes, *, content_type: str = "application/octet-stream") -> None:
        with translated():
            self._s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, **_ENCRYPTED)

    def open(self, key: str) -> Blob:
        with translated():
            answer = self._s3.get_object(Bucket=self.bucket, Key=key)
        body = answer["Body"]
        return Blob(int(answer["ContentLength"]), answer.get("ContentType") or "application/octet-stream",
                    _chunks(body))  # fmt: skip

    def delete(self, *keys: str) -> None:
        if not keys:
            return
        with translated():
            for start in range(0, len(keys), 1000):
                batch = [{"Key": key} for key in keys[start : start + 1000]]
                self._s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})


def _chunks(body: Any) -> Iterator[bytes]:
    try:
        with translated():
            yield from body.iter_chunks(CHUNK)
    finally:
        body.close()
