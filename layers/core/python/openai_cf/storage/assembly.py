"""Join S3 objects (an upload's parts) into one object with an S3 multipart upload, in flat memory.

S3 wants every part of a multipart upload but the last to hold at least 5 MiB, and one of our
requests carries less than 4.4 MiB, so upload parts can seldom be S3 parts as they are. `plan`
decides, from the sizes alone, what becomes of each byte:

- a source of at least the minimum (or the last source, when nothing is waiting before it) is
  copied inside S3 (`UploadPartCopy`): its bytes never reach the function;
- smaller sources are streamed through a buffer that is uploaded as one part (`UploadPart`) each
  time it holds `buffer` bytes, and once more at the end;
- a large source met while the buffer holds less than the minimum first tops the buffer up from
  its head, so the buffer can be sent, then the rest is copied.

Only the buffer is ever in memory (at most `buffer` bytes, about twice that while a part is sent),
whatever the size of the file. An md5 asked for is computed over the bytes in order as they pass;
copied ranges are read once more for it, chunk by chunk. Any failure aborts the S3 upload, so a
half-assembled file never appears; what an abort cannot remove, the bucket's lifecycle rule does.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from openai_cf import cancel, errors
from openai_cf.storage.blobs import Blob, PartReceipt

MiB = 1024 * 1024
# S3's own rules: the smallest part but the last, and the most parts in one upload.
S3_MIN_PART = 5 * MiB
S3_MAX_PARTS = 10_000


@dataclass(frozen=True)
class Limits:
    """The part-size rules (tests lower `min_part`, as moto allows, to stay small)."""

    min_part: int = S3_MIN_PART
    # Small sources are gathered into parts of this size: the function's memory per assembly.
    buffer: int = 8 * MiB
    max_parts: int = S3_MAX_PARTS

    def __post_init__(self) -> None:
        if not 0 < self.min_part <= self.buffer:
            raise ValueError("the buffer must hold at least one minimum-size part")


@dataclass(frozen=True)
class Source:
    key: str
    size: int


@dataclass(frozen=True)
class Stream:
    """Read bytes [start, end) of a source into the buffer."""

    source: int
    start: int
    end: int


@dataclass(frozen=True)
class Copy:
    """Copy bytes [start, end) of a source inside S3, as the next part."""

    source: int
    start: int
    end: int


@dataclass(frozen=True)
class Flush:
    """Send the buffer as the next part."""


Step = Stream | Copy | Flush


class TooManyParts(ValueError):
    """The plan needs more parts than S3 allows in one upload."""


class DigestMismatch(ValueError):
    """The assembled bytes do not have the md5 the client gave (nothing was written)."""

    def __init__(self, actual: str) -> None:
        super().__init__(f"md5 of the assembled bytes is {actual}")
        self.actual = actual


@dataclass
class _Planner:
    limits: Limits
    steps: list[Step] = field(default_factory=list)
    buffered: int = 0

    def add(self, index: int, size: int, *, last: bool) -> None:
        lead = self._lead()
        if self._copies(size, lead, last=last):
            self._stream(index, 0, lead)
            self._flush()
            self.steps.append(Copy(index, lead, size))
        else:
            self._stream(index, 0, size)

    def finish(self) -> list[Step]:
        self._flush()
        parts = sum(1 for step in self.steps if not isinstance(step, Stream))
        if parts > self.limits.max_parts:
            raise TooManyParts(f"{parts} parts needed, {self.limits.max_parts} allowed")
        return self.steps

    def _lead(self) -> int:
        # What a copy must leave to the buffer so that the buffer can be sent before it.
        return self.limits.min_part - self.buffered if 0 < self.buffered < self.limits.min_part else 0

    def _copies(self, size: int, lead: int, *, last: bool) -> bool:
        if last and self.buffered == 0:
            return True
        return size >= self.limits.min_part and (last or size - lead >= self.limits.min_part)

    def _stream(self, index: int, start: int, end: int) -> None:
        while start < end:
            take = min(end - start, self.limits.buffer - self.buffered)
            self.steps.append(Stream(index, start, start + take))
            self.buffered += take
            start += take
            if self.buffered == self.limits.buffer:
                self._flush()

    def _flush(self) -> None:
        if self.buffered:
            self.steps.append(Flush())
            self.buffered = 0


def plan(sizes: Sequence[int], limits: Limits) -> list[Step]:
    """The steps that join sources of these sizes (every size > 0) under S3's part rules."""
    planner = _Planner(limits)
    for index, size in enumerate(sizes):
        planner.add(index, size, last=index == len(sizes) - 1)
    return planner.finish()


class PartStore(Protocol):
    """What assembly needs of S3 (`blobs.BlobStore`; tests give a fake to measure memory)."""

    def open(self, key: str, *, byte_range: tuple[int, int] | None = None) -> Blob: ...
    def start_multipart(self, key: str, *, content_type: str, tagging: str | None = None) -> str: ...
    def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> PartReceipt: ...
    def copy_part(
        self, key: str, upload_id: str, number: int, source: str, *, byte_range: tuple[int, int] | None = None
    ) -> PartReceipt: ...
    def finish_multipart(self, key: str, upload_id: str, receipts: Sequence[PartReceipt]) -> None: ...
    def abort_multipart(self, key: str, upload_id: str) -> None: ...


def assemble(
    store: PartStore, sources: Sequence[Source], key: str, *, content_type: str, limits: Limits,
    md5: str | None = None, tagging: str | None = None,
) -> None:  # fmt: skip
    """Write the sources, in order, as the one object `key`; with `md5`, only if the bytes have it
    (`DigestMismatch` otherwise). Raises `TooManyParts` before any write."""
    steps = plan([source.size for source in sources], limits)
    upload_id = store.start_multipart(key, content_type=content_type, tagging=tagging)
    try:
        writer = _Writer(store, key, upload_id, sources, hashlib.md5(usedforsecurity=False) if md5 else None)
        receipts = writer.run(steps)
        if md5 and writer.hexdigest() != md5.lower():
            raise DigestMismatch(writer.hexdigest())
        store.finish_multipart(key, upload_id, receipts)
    except BaseException:
        _abort(store, key, upload_id)
        raise


def _abort(store: PartStore, key: str, upload_id: str) -> None:
    # Best effort: the failure that brought us here is the one to report, and the lifecycle rule
    # on incomplete multipart uploads removes what this call could not.
    with contextlib.suppress(errors.OpenAICFError):
        store.abort_multipart(key, upload_id)


class _Writer:
    def __init__(
        self, store: PartStore, key: str, upload_id: str, sources: Sequence[Source], digest: hashlib._Hash | None
    ) -> None:
        self._store = store
        self._key = key
        self._upload_id = upload_id
        self._sources = sources
        self._digest = digest
        self._buffer: list[bytes] = []
        self._receipts: list[PartReceipt] = []

    def run(self, steps: Sequence[Step]) -> list[PartReceipt]:
        for step in steps:
            # A client that left will retry: stop now, so the upload is still pending for it.
            cancel.raise_if_cancelled()
            if isinstance(step, Stream):
                self._buffer.extend(self._read(step.source, step.start, step.end))
            elif isinstance(step, Copy):
                self._copy(step)
            else:
                self._flush()
        return self._receipts

    def hexdigest(self) -> str:
        return self._digest.hexdigest() if self._digest else ""

    def _read(self, index: int, start: int, end: int) -> Iterator[bytes]:
        source = self._sources[index]
        blob = self._store.open(source.key, byte_range=_range(source, start, end))
        seen = 0
        for chunk in blob.chunks:
            seen += len(chunk)
            if self._digest is not None:
                self._digest.update(chunk)
            yield chunk
        if seen != end - start:
            raise errors.InternalServerError("An upload part's stored bytes are incomplete.", code="storage_error")

    def _copy(self, step: Copy) -> None:
        source = self._sources[step.source]
        if self._digest is not None:
            for _ in self._read(step.source, step.start, step.end):
                pass
        number = len(self._receipts) + 1
        byte_range = _range(source, step.start, step.end)
        self._receipts.append(
            self._store.copy_part(self._key, self._upload_id, number, source.key, byte_range=byte_range)
        )

    def _flush(self) -> None:
        data = b"".join(self._buffer)
        self._buffer.clear()
        self._receipts.append(self._store.put_part(self._key, self._upload_id, len(self._receipts) + 1, data))


def _range(source: Source, start: int, end: int) -> tuple[int, int] | None:
    return None if (start, end) == (0, source.size) else (start, end)
