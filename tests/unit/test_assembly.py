"""Joining upload parts in S3: the plan (pure), the writer against moto, and its memory."""

from __future__ import annotations

import hashlib
import itertools
import os
import tracemalloc
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from openai_cf import cancel
from openai_cf import errors as e
from openai_cf.local.provision import provision
from openai_cf.settings import Settings
from openai_cf.storage.assembly import (
    Copy,
    DigestMismatch,
    Flush,
    Limits,
    Source,
    Step,
    Stream,
    TooManyParts,
    assemble,
    plan,
)
from openai_cf.storage.aws import AwsClients
from openai_cf.storage.blobs import Blob, BlobStore, PartReceipt

MiB = 1024 * 1024
BUCKET = "bucket-a"
SMALL = Limits(min_part=5, buffer=8)


# -- the plan -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sizes", "steps"),
    [
        # Small sources go through the buffer, sent each time it holds 8 bytes
        ([3, 3, 3], [Stream(0, 0, 3), Stream(1, 0, 3), Stream(2, 0, 2), Flush(), Stream(2, 2, 3), Flush()]),
        # One source, or a large one with nothing waiting, is copied whole
        ([2], [Copy(0, 0, 2)]),
        ([10, 1], [Copy(0, 0, 10), Copy(1, 0, 1)]),
        # A large source after a small one tops the buffer up to the minimum, then is copied
        ([1, 12], [Stream(0, 0, 1), Stream(1, 0, 4), Flush(), Copy(1, 4, 12)]),
        # ... unless what would be left to copy is under the minimum: then it is streamed
        ([3, 6, 1], [Stream(0, 0, 3), Stream(1, 0, 5), Flush(), Stream(1, 5, 6), Stream(2, 0, 1), Flush()]),
        # A buffer already at the minimum is sent as it is before a copy
        ([6, 1, 6], [Copy(0, 0, 6), Stream(1, 0, 1), Stream(2, 0, 4), Flush(), Copy(2, 4, 6)]),
        ([2, 4, 7], [Stream(0, 0, 2), Stream(1, 0, 4), Flush(), Copy(2, 0, 7)]),
    ],
)
def test_the_plan_for_some_sizes(sizes: list[int], steps: list[Step]) -> None:
    assert plan(sizes, SMALL) == steps


def parts_of(steps: Sequence[Step]) -> list[int]:
    """The size of each S3 part the steps make."""
    sizes, buffered = [], 0
    for step in steps:
        if isinstance(step, Stream):
            buffered += step.end - step.start
        elif isinstance(step, Copy):
            sizes.append(step.end - step.start)
        else:
            sizes.append(buffered)
            buffered = 0
    assert buffered == 0, "bytes left in the buffer"
    return sizes


@given(
    sizes=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=30),
    min_part=st.integers(min_value=1, max_value=12),
    extra=st.integers(min_value=0, max_value=12),
)
def test_every_plan_follows_s3s_rules_and_keeps_the_bytes_in_order(sizes: list[int], min_part: int, extra: int) -> None:
    limits = Limits(min_part=min_part, buffer=min_part + extra, max_parts=10_000)
    steps = plan(sizes, limits)
    # Every byte of every source, once, in order
    ranges = [(s.source, s.start, s.end) for s in steps if not isinstance(s, Flush)]
    assert [r for r in ranges if r[1] < r[2]] == ranges
    pieces: dict[int, list[tuple[int, int]]] = {}
    for source, start, end in ranges:
        pieces.setdefault(source, []).append((start, end))
    assert [source for source, _, _ in ranges] == sorted(source for source, _, _ in ranges)
    for index, size in enumerate(sizes):
        bounds = pieces[index]
        assert bounds[0][0] == 0 and bounds[-1][1] == size
        assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
    # Every part but the last holds the minimum; the buffer never holds more than its size
    parts = parts_of(steps)
    assert all(size >= min_part for size in parts[:-1])
    streamed = [size for size, step in zip(parts, [s for s in steps if not isinstance(s, Stream)], strict=True)
                if isinstance(step, Flush)]  # fmt: skip
    assert all(size <= limits.buffer for size in streamed)
    # A source that holds two minimum parts is always copied, at least in part
    copied = {s.source for s in steps if isinstance(s, Copy)}
    assert all(index in copied for index, size in enumerate(sizes) if size >= 2 * min_part)


def test_a_plan_over_s3s_part_count_is_refused_before_any_write() -> None:
    with pytest.raises(TooManyParts):
        plan([5] * 11, Limits(min_part=5, buffer=5, max_parts=10))


def test_limits_need_a_buffer_of_at_least_one_part() -> None:
    with pytest.raises(ValueError):
        Limits(min_part=10, buffer=5)


# -- against S3 (moto) ----------------------------------------------------------------------------
class Recording:
    """The real blob store, with a note of what assembly asked of it."""

    def __init__(self, blobs: BlobStore, *, fail_on_put: int | None = None) -> None:
        self.blobs = blobs
        self.sent: list[int] = []
        self.copied: list[tuple[str, tuple[int, int] | None]] = []
        self.fail_on_put = fail_on_put

    def open(self, key: str, *, byte_range: tuple[int, int] | None = None) -> Blob:
        return self.blobs.open(key, byte_range=byte_range)

    def start_multipart(self, key: str, *, content_type: str, tagging: str | None = None) -> str:
        return self.blobs.start_multipart(key, content_type=content_type)

    def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> PartReceipt:
        self.sent.append(len(data))
        if len(self.sent) == self.fail_on_put:
            raise e.InternalServerError("S3 went away", code="storage_error")
        return self.blobs.put_part(key, upload_id, number, data)

    def copy_part(
        self, key: str, upload_id: str, number: int, source: str, *, byte_range: tuple[int, int] | None = None
    ) -> PartReceipt:
        self.copied.append((source, byte_range))
        return self.blobs.copy_part(key, upload_id, number, source, byte_range=byte_range)

    def finish_multipart(self, key: str, upload_id: str, receipts: Sequence[PartReceipt]) -> None:
        self.blobs.finish_multipart(key, upload_id, receipts)

    def abort_multipart(self, key: str, upload_id: str) -> None:
        self.blobs.abort_multipart(key, upload_id)


@pytest.fixture
def blobs() -> Iterator[BlobStore]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws():
        provision(Settings(aws_region="us-east-1", table_name="t", bucket_name=BUCKET))
        yield BlobStore(AwsClients(region="us-east-1"), BUCKET)


@pytest.fixture
def tiny_parts(monkeypatch: pytest.MonkeyPatch) -> Limits:
    """S3's part minimum lowered to 1 KiB in moto too, so that moto still checks our parts."""
    monkeypatch.setattr("moto.s3.models.S3_UPLOAD_PART_MIN_SIZE", 1024)
    return Limits(min_part=1024, buffer=2048)


def stored(blobs: BlobStore, sizes: Sequence[int]) -> tuple[list[Source], bytes]:
    sources, data = [], []
    for index, size in enumerate(sizes):
        content = os.urandom(size)
        blobs.put_bytes(f"uploads/u/{index}", content)
        sources.append(Source(f"uploads/u/{index}", size))
        data.append(content)
    return sources, b"".join(data)


def read(blobs: BlobStore, key: str) -> bytes:
    return b"".join(blobs.open(key).chunks)


def no_multipart_left(blobs: BlobStore) -> bool:
    s3 = blobs._clients.client("s3")  # the test peeks at S3 itself
    return not s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads")


def test_small_parts_are_streamed_through_the_buffer(blobs: BlobStore, tiny_parts: Limits) -> None:
    # Given ten parts of 300 bytes (each under the minimum part size)
    sources, data = stored(blobs, [300] * 10)
    store = Recording(blobs)
    # When they are joined
    assemble(store, sources, "files/f", content_type="text/csv", limits=tiny_parts)
    # Then nothing is copied, the buffer went up full and once more at the end, and the bytes are in order
    assert store.copied == []
    assert store.sent == [2048, 952]
    assert read(blobs, "files/f") == data
    assert blobs.open("files/f").content_type == "text/csv"


def test_big_parts_are_copied_inside_s3(blobs: BlobStore, tiny_parts: Limits) -> None:
    # Given a small part, then parts over the minimum, and a small last part
    sources, data = stored(blobs, [100, 3000, 1500, 50])
    store = Recording(blobs)
    # When they are joined
    assemble(store, sources, "files/f", content_type="application/octet-stream", limits=tiny_parts)
    # Then the big parts' bytes went from object to object (the first after topping up the buffer),
    # and so did the last part, with nothing waiting before it
    assert store.copied == [("uploads/u/1", (924, 3000)), ("uploads/u/2", None), ("uploads/u/3", None)]
    assert store.sent == [1024]
    assert read(blobs, "files/f") == data


def test_s3s_real_minimum_with_parts_of_more_than_5_mib(blobs: BlobStore) -> None:
    # Given parts as a deployment with a higher request limit could get them (S3's own 5 MiB rule)
    sources, data = stored(blobs, [6 * MiB, 1024, 11 * MiB, 100])
    store = Recording(blobs)
    # When they are joined with the real limits
    assemble(store, sources, "files/f", content_type="application/octet-stream", limits=Limits(),
             md5=hashlib.md5(data).hexdigest())  # fmt: skip
    # Then large parts were copied (one after topping the buffer up to 5 MiB), and the file is whole
    assert store.copied == [
        ("uploads/u/0", None),
        ("uploads/u/2", (5 * MiB - 1024, 11 * MiB)),
        ("uploads/u/3", None),
    ]
    assert store.sent == [5 * MiB]
    assert read(blobs, "files/f") == data


def test_an_md5_is_checked_over_the_joined_bytes(blobs: BlobStore, tiny_parts: Limits) -> None:
    sources, data = stored(blobs, [100, 3000, 700])
    # Given the right md5 (in capitals), the file is written
    assemble(
        blobs, sources, "files/ok", content_type="x/y", limits=tiny_parts, md5=hashlib.md5(data).hexdigest().upper()
    )
    assert read(blobs, "files/ok") == data
    # Given the md5 of the same parts in another order, nothing is written and nothing is left over
    other = hashlib.md5(data[100:3100] + data[:100] + data[3100:]).hexdigest()
    with pytest.raises(DigestMismatch) as mismatch:
        assemble(blobs, sources, "files/bad", content_type="x/y", limits=tiny_parts, md5=other)
    assert mismatch.value.actual == hashlib.md5(data).hexdigest()
    with pytest.raises(e.InternalServerError):
        blobs.open("files/bad")
    assert no_multipart_left(blobs)


def test_a_failure_midway_aborts_the_s3_upload(blobs: BlobStore, tiny_parts: Limits) -> None:
    # Given S3 failing on the second part sent
    sources, _ = stored(blobs, [300] * 10)
    store = Recording(blobs, fail_on_put=2)
    # When the parts are joined, the failure is the answer, and S3 keeps no half-made file
    with pytest.raises(e.InternalServerError):
        assemble(store, sources, "files/f", content_type="x/y", limits=tiny_parts)
    assert no_multipart_left(blobs)


def test_a_client_that_left_stops_the_join(blobs: BlobStore, tiny_parts: Limits) -> None:
    # Given the request's cancel scope cancelled (its client disconnected) once the first part is sent
    sources, _ = stored(blobs, [300] * 10)
    scope = cancel.CancelScope()

    class Leaving(Recording):
        def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> PartReceipt:
            scope.cancel()
            return super().put_part(key, upload_id, number, data)

    store = Leaving(blobs)
    # When the parts are joined under that scope, the join stops there and leaves nothing behind
    with pytest.raises(cancel.Cancelled):
        cancel.run_in(scope, lambda: assemble(store, sources, "files/f", content_type="x/y", limits=tiny_parts))
    assert store.sent == [2048]
    assert no_multipart_left(blobs)


def test_a_part_shorter_than_its_record_is_an_error(blobs: BlobStore, tiny_parts: Limits) -> None:
    blobs.put_bytes("uploads/u/0", b"abc")
    with pytest.raises(e.InternalServerError):
        assemble(blobs, [Source("uploads/u/0", 3), Source("uploads/u/0", 5)], "files/f", content_type="x/y",
                 limits=tiny_parts)  # fmt: skip
    assert no_multipart_left(blobs)


# -- memory ---------------------------------------------------------------------------------------
class Generated:
    """A part store whose sources are made on the fly and whose parts are hashed and dropped: what
    assembly itself holds is all that tracemalloc sees."""

    CHUNK = 256 * 1024

    def __init__(self) -> None:
        self.digest = hashlib.md5()
        self.largest_part = 0

    def open(self, key: str, *, byte_range: tuple[int, int] | None = None) -> Blob:
        start, end = byte_range or (0, int(key.rsplit("/", 1)[1]))
        return Blob(end - start, "application/octet-stream", self._chunks(end - start))

    def _chunks(self, size: int) -> Iterator[bytes]:
        while size > 0:
            take = min(size, self.CHUNK)
            yield bytes([size % 251]) * take
            size -= take

    def start_multipart(self, key: str, *, content_type: str, tagging: str | None = None) -> str:
        return "mp"

    def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> PartReceipt:
        self.largest_part = max(self.largest_part, len(data))
        return {"ETag": str(number)}

    def copy_part(self, key: str, upload_id: str, number: int, source: str, **_: Any) -> PartReceipt:
        return {"ETag": str(number)}

    def finish_multipart(self, key: str, upload_id: str, receipts: Sequence[PartReceipt]) -> None:
        pass

    def abort_multipart(self, key: str, upload_id: str) -> None:
        pass


def peak_while_joining(total_mib: int) -> int:
    # Parts of 4 MiB (as the SDK sends them), one large part in every eight, and an md5 on top.
    sizes = [(9 if i % 8 == 7 else 4) * MiB for i in range(total_mib // 4)]
    sources = [Source(f"uploads/u/{size}", size) for size in sizes]
    store = Generated()
    tracemalloc.start()
    try:
        assemble(store, sources, "files/f", content_type="x/y", limits=Limits(), md5="0" * 32)
    except DigestMismatch:
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert store.largest_part <= Limits().buffer
    return peak


def test_memory_stays_flat_whatever_the_file_size() -> None:
    # Given files of 64 MiB and of 512 MiB, joined with the default 8 MiB buffer
    small, large = peak_while_joining(64), peak_while_joining(512)
    # Then the peak is about two buffers (the chunks and the part made of them), not the file
    assert small < 3 * Limits().buffer
    assert large < 3 * Limits().buffer
    assert abs(large - small) < MiB
