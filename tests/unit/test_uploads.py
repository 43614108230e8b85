"""The Uploads service and repository against moto (in-process), with the clock injected."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO

import pytest
from moto import mock_aws

from openai_cf import errors as e
from openai_cf.local.provision import provision
from openai_cf.schemas.files import ExpiresAfter, FileListParams
from openai_cf.schemas.uploads import Upload, UploadCompleteParams, UploadCreateParams
from openai_cf.services.files import FilesService
from openai_cf.services.uploads import UploadsService
from openai_cf.settings import Settings
from openai_cf.storage.assembly import Limits
from openai_cf.storage.aws import AwsClients
from openai_cf.storage.blobs import EXPIRY_TAG, BlobStore, PartReceipt, expiry_tagging
from openai_cf.storage.files import FileRepository
from openai_cf.storage.pages import PageRequest
from openai_cf.storage.table import Table
from openai_cf.storage.uploads import UploadRepository

BUCKET = "bucket-u"
OWNER = "key_0123456789abcdef01234567"
START = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


class HookedBlobs(BlobStore):
    """The real blob store, with a hook run just before an upload's bytes land or a join completes
    (to let a competing request in at the worst moment)."""

    before_put: Callable[[], None] | None = None
    before_finish: Callable[[], None] | None = None

    def put_file(
        self, key: str, fileobj: IO[bytes], *, content_type: str = "application/octet-stream",
        tagging: str | None = None,
    ) -> None:  # fmt: skip
        super().put_file(key, fileobj, content_type=content_type, tagging=tagging)
        hook, self.before_put = self.before_put, None
        if hook:
            hook()

    def finish_multipart(self, key: str, upload_id: str, receipts: Sequence[PartReceipt]) -> None:
        hook, self.before_finish = self.before_finish, None
        if hook:
            hook()
        super().finish_multipart(key, upload_id, receipts)


@dataclass
class World:
    uploads: UploadsService
    files: FilesService
    file_records: FileRepository
    table: Table
    blobs: HookedBlobs
    clock: Clock

    def create(self, size: int, **fields: object) -> Upload:
        values: dict[str, object] = {"filename": "data.bin", "purpose": "assistants", "bytes": size,
                                     "mime_type": "text/plain", **fields}  # fmt: skip
        return self.uploads.create(UploadCreateParams.model_validate(values), owner=OWNER)

    def send(self, upload_id: str, data: bytes) -> str:
        return self.uploads.add_part(upload_id, io.BytesIO(data), size=len(data), owner=OWNER).id

    def complete(self, upload_id: str, part_ids: list[str], md5: str | None = None) -> Upload:
        return self.uploads.complete(upload_id, UploadCompleteParams(part_ids=part_ids, md5=md5), owner=OWNER)

    def content(self, file_id: str) -> bytes:
        return b"".join(self.files.content(file_id)[1].chunks)

    def tags(self, file_id: str) -> dict[str, str]:
        answer = self.blobs._clients.client("s3").get_object_tagging(Bucket=BUCKET, Key=f"files/{file_id}")
        return {tag["Key"]: tag["Value"] for tag in answer["TagSet"]}

    def keys(self, prefix: str) -> list[str]:
        listed = self.blobs._clients.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return [item["Key"] for item in listed.get("Contents", [])]


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    # Parts of a few hundred bytes: S3's 5 MiB part minimum lowered in moto and in our limits alike.
    monkeypatch.setattr("moto.s3.models.S3_UPLOAD_PART_MIN_SIZE", 1024)
    with mock_aws():
        provision(Settings(aws_region="us-east-1", table_name="t", bucket_name=BUCKET))
        clients = AwsClients(region="us-east-1")
        table, blobs, clock = Table(clients, "t"), HookedBlobs(clients, BUCKET), Clock()
        file_records = FileRepository(table)
        uploads = UploadsService(UploadRepository(table, file_records), blobs, clock=clock,
                                 limits=Limits(min_part=1024, buffer=2048))  # fmt: skip
        yield World(uploads, FilesService(file_records, blobs, clock), file_records, table, blobs, clock)


def refused(call: Callable[[], object]) -> e.OpenAICFError:
    with pytest.raises(e.OpenAICFError) as failure:
        call()
    return failure.value


# -- storage ---------------------------------------------------------------------------------------
def test_an_upload_is_its_own_collection_and_its_parts_another(world: World) -> None:
    # Given an upload with one part
    upload = world.create(3)
    part_id = world.send(upload.id, b"abc")
    # Then the upload is keyed by its id alone, its parts by `<id>#part`, both owned and expiring
    item = world.table.get(upload.id, upload.id)
    part = world.table.get(f"{upload.id}#part", part_id)
    assert item is not None and part is not None
    assert (item["owner"], item["status"], item["ttl"]) == (OWNER, "pending", upload.expires_at + 86_400)
    assert (part["owner"], part["upload_id"], part["bytes"], part["ttl"]) == (OWNER, upload.id, 3, item["ttl"])
    # And the part's bytes are under the upload's prefix in S3
    assert world.keys("uploads/") == [f"uploads/{upload.id}/{part_id}"]


def test_an_upload_is_pending_for_an_hour(world: World) -> None:
    upload = world.create(10)
    assert upload.id.startswith("upload_")
    assert (upload.status, upload.created_at, upload.expires_at, upload.file) == (
        "pending", int(START), int(START) + 3600, None,
    )  # fmt: skip


# -- the happy path ---------------------------------------------------------------------------------
def test_parts_are_joined_in_the_order_of_part_ids(world: World) -> None:
    # Given three parts sent as a, b, c (one larger than the lowered part minimum)
    a, b, c = os.urandom(300), os.urandom(1500), os.urandom(200)
    upload = world.create(2000, filename="joined.txt", purpose="user_data", mime_type="text/csv")
    ids = [world.send(upload.id, data) for data in (a, b, c)]
    # When the upload is completed as c, a, b
    world.clock.now += 30
    done = world.complete(upload.id, [ids[2], ids[0], ids[1]], md5=hashlib.md5(c + a + b).hexdigest())
    # Then it is completed with a File that the Files API serves, bytes in that order
    assert done.status == "completed" and done.file is not None
    assert (done.file.bytes, done.file.filename, done.file.purpose) == (2000, "joined.txt", "user_data")
    assert done.file.created_at == int(START) + 30
    assert world.files.retrieve(done.file.id) == done.file
    assert world.content(done.file.id) == c + a + b
    assert world.files.content(done.file.id)[1].content_type == "text/csv"
    assert [f.id for f in world.files.list(FileListParams(purpose="user_data")).data] == [done.file.id]
    # And the parts' bytes are gone
    assert world.keys("uploads/") == []


def test_the_files_expires_after_counts_from_the_files_creation(world: World) -> None:
    upload = world.create(3, expires_after=ExpiresAfter(anchor="created_at", seconds=7200))
    part = world.send(upload.id, b"abc")
    world.clock.now += 600
    done = world.complete(upload.id, [part])
    assert done.file is not None and done.file.expires_at == int(START) + 600 + 7200
    assert done.expires_at == int(START) + 3600
    # And its bytes carry their expiry for the bucket's lifecycle rules: within a day
    assert world.tags(done.file.id) == {EXPIRY_TAG: "1"}


def test_a_file_that_never_expires_has_no_expiry_tag(world: World) -> None:
    upload = world.create(3)
    done = world.complete(upload.id, [world.send(upload.id, b"abc")])
    assert done.file is not None and world.tags(done.file.id) == {}
    created = world.files.create(io.BytesIO(b"x"), size=1, filename="a.txt", purpose="assistants",
                                 content_type="text/plain", expires_after=None, owner=OWNER)  # fmt: skip
    assert world.tags(created.id) == {}


def test_a_files_bytes_carry_its_expiry_in_whole_days_rounded_up(world: World) -> None:
    created = world.files.create(
        io.BytesIO(b"x"), size=1, filename="a.txt", purpose="assistants", content_type="text/plain",
        expires_after=ExpiresAfter(anchor="created_at", seconds=2 * 86_400 + 1), owner=OWNER,
    )  # fmt: skip
    assert world.tags(created.id) == {EXPIRY_TAG: "3"}


@pytest.mark.parametrize(
    ("seconds", "days"), [(1, 1), (3600, 1), (86_400, 1), (86_401, 2), (30 * 86_400, 30), (90 * 86_400, 31)]
)
def test_expiry_tagging_counts_whole_days(seconds: int, days: int) -> None:
    assert expiry_tagging(START + seconds, START) == f"{EXPIRY_TAG}={days}"
    assert expiry_tagging(None, START) is None


# -- the state machine ------------------------------------------------------------------------------
def test_a_completed_upload_takes_no_more_parts_completions_or_cancels(world: World) -> None:
    upload = world.create(3)
    part = world.send(upload.id, b"abc")
    world.complete(upload.id, [part])
    for call in (
        lambda: world.complete(upload.id, [part]),
        lambda: world.send(upload.id, b"more"),
        lambda: world.uploads.cancel(upload.id),
    ):
        error = refused(call)
        assert (error.status, error.code) == (400, "upload_completed")
    assert len(world.file_records.page(PageRequest(limit=10)).items) == 1


def test_a_cancelled_upload_takes_no_parts_and_cannot_complete(world: World) -> None:
    # Given a cancelled upload that had a part
    upload = world.create(3)
    part = world.send(upload.id, b"abc")
    cancelled = world.uploads.cancel(upload.id)
    assert (cancelled.status, cancelled.id) == ("cancelled", upload.id)
    # Then its parts' bytes are gone, and it takes no more parts and no completion
    assert world.keys("uploads/") == []
    for call in (lambda: world.send(upload.id, b"abc"), lambda: world.complete(upload.id, [part])):
        error = refused(call)
        assert (error.status, error.code) == (400, "upload_cancelled")
    # And cancelling again answers the same (a lost answer can be asked for again)
    assert world.uploads.cancel(upload.id) == cancelled


def test_an_expired_upload_refuses_parts_and_completion_and_says_so(world: World) -> None:
    # Given an upload with a part, an hour later
    upload = world.create(3)
    part = world.send(upload.id, b"abc")
    world.clock.now = upload.expires_at
    # Then parts and completion are 400s that say it expired
    for call in (lambda: world.send(upload.id, b"abc"), lambda: world.complete(upload.id, [part])):
        error = refused(call)
        assert (error.status, error.code) == (400, "upload_expired")
        assert "expired" in error.message
    # And cancelling answers it as expired, and removes its parts' bytes
    assert world.uploads.cancel(upload.id).status == "expired"
    assert world.keys("uploads/") == []


def test_unknown_uploads_are_404(world: World) -> None:
    for upload_id in ("upload_000000000000000000000000", "file-000000000000000000000000", "file"):
        for call in (
            lambda: world.send(upload_id, b"x"),  # noqa: B023 (called at once)
            lambda: world.complete(upload_id, ["part_x"]),  # noqa: B023
            lambda: world.uploads.cancel(upload_id),  # noqa: B023
        ):
            error = refused(call)
            assert (error.status, error.code, error.param) == (404, "upload_not_found", "upload_id")


# -- bad completions leave the upload pending -------------------------------------------------------
def test_a_size_mismatch_is_400_and_leaves_the_upload_pending(world: World) -> None:
    upload = world.create(6)
    first = world.send(upload.id, b"abc")
    error = refused(lambda: world.complete(upload.id, [first]))
    assert (error.status, error.param) == (400, "part_ids")
    assert "3 bytes" in error.message and "bytes=6" in error.message
    second = world.send(upload.id, b"def")
    assert world.complete(upload.id, [first, second]).status == "completed"


def test_an_md5_mismatch_is_400_and_leaves_the_upload_pending(world: World) -> None:
    upload = world.create(6)
    ids = [world.send(upload.id, b"abc"), world.send(upload.id, b"def")]
    error = refused(lambda: world.complete(upload.id, ids[::-1], md5=hashlib.md5(b"abcdef").hexdigest()))
    assert (error.status, error.param, error.code) == (400, "md5", "md5_mismatch")
    assert world.keys("files/") == []
    done = world.complete(upload.id, ids, md5=hashlib.md5(b"abcdef").hexdigest())
    assert done.file is not None and world.content(done.file.id) == b"abcdef"


@pytest.mark.parametrize("case", ["unknown", "duplicate", "another upload's"])
def test_part_ids_must_be_this_uploads_each_once(world: World, case: str) -> None:
    upload, other = world.create(6), world.create(3)
    ids = [world.send(upload.id, b"abc"), world.send(upload.id, b"def")]
    foreign = world.send(other.id, b"ghi")
    part_ids = {
        "unknown": [ids[0], "part_000000000000000000000000"],
        "duplicate": [ids[0], ids[0]],
        "another upload's": [ids[0], foreign],
    }[case]
    error = refused(lambda: world.complete(upload.id, part_ids))
    assert (error.status, error.param) == (400, "part_ids")
    assert world.complete(upload.id, ids).status == "completed"


def test_an_empty_part_is_400(world: World) -> None:
    upload = world.create(3)
    error = refused(lambda: world.send(upload.id, b""))
    assert (error.status, error.param) == (400, "data")


# -- races: every change of state is a conditional write -------------------------------------------
def test_a_cancel_that_lands_while_parts_are_joined_wins(world: World) -> None:
    # Given a cancel that arrives just before the join completes
    upload = world.create(3)
    part = world.send(upload.id, b"abc")
    world.blobs.before_finish = lambda: world.uploads.cancel(upload.id) and None
    # Then the completion is refused, and neither a File nor its bytes are left
    error = refused(lambda: world.complete(upload.id, [part]))
    assert (error.status, error.code) == (400, "upload_cancelled")
    assert world.file_records.page(PageRequest(limit=10)).items == []
    assert world.keys("files/") == []


def test_of_two_completions_at_once_only_one_lands(world: World) -> None:
    # Given a second completion that runs while the first one joins the parts
    upload = world.create(3)
    part = world.send(upload.id, b"abc")
    seconds: list[Upload] = []
    world.blobs.before_finish = lambda: seconds.append(world.complete(upload.id, [part]))
    # Then the first is refused as already completed, and there is one File with one copy of the bytes
    error = refused(lambda: world.complete(upload.id, [part]))
    assert (error.status, error.code) == (400, "upload_completed")
    (second,) = seconds
    assert second.file is not None
    assert [f.id for f in world.file_records.page(PageRequest(limit=10)).items] == [second.file.id]
    assert world.keys("files/") == [f"files/{second.file.id}"]


def test_a_part_whose_upload_is_cancelled_meanwhile_is_refused_and_dropped(world: World) -> None:
    # Given a cancel that lands while a part's bytes travel to S3
    upload = world.create(3)
    world.blobs.before_put = lambda: world.uploads.cancel(upload.id) and None
    # Then the part is refused, and its bytes and record are gone
    error = refused(lambda: world.send(upload.id, b"abc"))
    assert (error.status, error.code) == (400, "upload_cancelled")
    assert world.keys("uploads/") == []
    assert world.table.query_all(f"{upload.id}#part", limit=10) == []
