"""The DynamoDB table and S3 blob store against moto (in-process): pages, cursors, conditions."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from openai_cf import errors as e
from openai_cf.local.provision import provision
from openai_cf.settings import Settings
from openai_cf.storage.aws import AwsClients
from openai_cf.storage.blobs import BlobStore
from openai_cf.storage.items import from_item, to_item
from openai_cf.storage.pages import PageRequest
from openai_cf.storage.table import Check, ConditionFailed, Table


@pytest.fixture
def aws() -> Iterator[AwsClients]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws():
        provision(Settings(aws_region="us-east-1", table_name="t", bucket_name="bucket-b"))
        yield AwsClients(region="us-east-1")


@pytest.fixture
def table(aws: AwsClients) -> Table:
    return Table(aws, "t")


IDS = [f"obj_{i:03d}" for i in range(10)]


def fill(table: Table, pk: str = "things") -> None:
    for i, sk in enumerate(IDS):
        table.put({"pk": pk, "sk": sk, "n": i})


def ids_of(table: Table, page: PageRequest) -> tuple[list[str], bool]:
    result = table.query_page("things", page, lambda item: str(item["sk"]))
    return result.items, result.has_more


@pytest.mark.parametrize(
    ("page", "expected", "more"),
    [
        (PageRequest(limit=3, order="asc"), IDS[:3], True),
        (PageRequest(limit=3, order="desc"), IDS[::-1][:3], True),
        (PageRequest(limit=3, order="asc", after="obj_002"), IDS[3:6], True),
        (PageRequest(limit=3, order="desc", after="obj_007"), ["obj_006", "obj_005", "obj_004"], True),
        (PageRequest(limit=3, order="asc", after="obj_007"), IDS[8:], False),
        (PageRequest(limit=3, order="asc", before="obj_005"), ["obj_002", "obj_003", "obj_004"], True),
        (PageRequest(limit=3, order="desc", before="obj_005"), ["obj_008", "obj_007", "obj_006"], True),
        (PageRequest(limit=100, order="asc"), IDS, False),
        (PageRequest(limit=10, order="asc"), IDS, False),
    ],
)
def test_pages_follow_openai_cursor_semantics(table: Table, page: PageRequest, expected: list[str], more: bool) -> None:
    fill(table)
    table.put({"pk": "other", "sk": "obj_005", "n": 0})
    assert ids_of(table, page) == (expected, more)


def test_a_page_larger_than_one_dynamodb_response_is_read_whole(table: Table) -> None:
    # Given items of ~300 KB each: DynamoDB answers at most 1 MB per Query call
    big = "x" * 300_000
    for sk in IDS[:6]:
        table.put({"pk": "things", "sk": sk, "blob": big})
    # Then a page of five still holds five, and knows there is a sixth
    assert ids_of(table, PageRequest(limit=5, order="asc")) == (IDS[:5], True)


def test_conditional_writes(table: Table) -> None:
    table.put({"pk": "p", "sk": "s", "status": "queued"}, only_if_new=True)
    with pytest.raises(ConditionFailed):
        table.put({"pk": "p", "sk": "s"}, only_if_new=True)
    updated = table.update(
        "p", "s", {"status": "in_progress"}, condition="#a0 <> :done", condition_values={":done": "done"}
    )
    assert updated["status"] == "in_progress"
    with pytest.raises(ConditionFailed):
        table.update("p", "missing", {"status": "x"})
    assert table.delete("p", "s") == {"pk": "p", "sk": "s", "status": "in_progress"}
    assert table.delete("p", "s") is None
    assert table.get("p", "s") is None


def test_write_together_is_all_or_nothing(table: Table) -> None:
    table.write_together([{"pk": "a", "sk": "1"}, {"pk": "b", "sk": "1"}])
    assert table.get("a", "1") and table.get("b", "1")
    table.write_together([], deletes=[("a", "1"), ("b", "1")])
    assert table.get("a", "1") is None and table.get("b", "1") is None


def test_write_together_happens_only_if_every_check_holds(table: Table) -> None:
    # Given an upload-like item that is pending
    table.put({"pk": "u", "sk": "u", "status": "pending"})
    pending = Check("u", "u", "#s = :p", values={":p": "pending"}, names={"#s": "status"})
    # When a part is written under the check, it lands
    table.write_together([{"pk": "u#part", "sk": "1"}], checks=[pending])
    assert table.get("u#part", "1")
    # And once the item has moved on, nothing of a checked write lands
    table.put({"pk": "u", "sk": "u", "status": "cancelled"})
    with pytest.raises(ConditionFailed):
        table.write_together([{"pk": "u#part", "sk": "2"}, {"pk": "x", "sk": "2"}], checks=[pending])
    assert table.get("u#part", "2") is None
    assert table.get("x", "2") is None


def test_a_check_on_an_item_that_is_put_guards_that_put(table: Table) -> None:
    # Given a pending item (DynamoDB refuses two operations on one item in a transaction)
    table.put({"pk": "u", "sk": "u", "status": "pending"})
    pending = Check("u", "u", "#s = :p", values={":p": "pending"}, names={"#s": "status"})
    # When it is replaced under a check on itself, the first write wins and the second fails
    table.write_together([{"pk": "u", "sk": "u", "status": "completed"}, {"pk": "f", "sk": "1"}], checks=[pending])
    with pytest.raises(ConditionFailed):
        table.write_together([{"pk": "u", "sk": "u", "status": "completed"}, {"pk": "f", "sk": "2"}], checks=[pending])
    # Then only the first write's items exist
    assert table.get("u", "u") == {"pk": "u", "sk": "u", "status": "completed"}
    assert table.get("f", "1") and table.get("f", "2") is None


def test_get_many_reads_existing_items_in_batches_of_a_hundred(table: Table) -> None:
    # Given 150 items in one collection
    for i in range(150):
        table.put({"pk": "p", "sk": f"{i:03d}", "n": i})
    # When 250 keys are asked for, some twice, some missing
    keys = [("p", f"{i:03d}") for i in range(200)] + [("p", "000"), ("q", "000")]
    found = table.get_many(keys)
    # Then each existing item comes once
    assert sorted(item["n"] for item in found) == list(range(150))


class _Throttled:
    """A DynamoDB client whose BatchGetItem leaves its keys unprocessed `times` times."""

    def __init__(self, times: int) -> None:
        self.times = times
        self.calls = 0

    def client(self, service: str) -> _Throttled:
        return self

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.times:
            return {"Responses": {"t": []}, "UnprocessedKeys": RequestItems}
        keys = RequestItems["t"]["Keys"]
        return {"Responses": {"t": [{**key, "n": {"N": "1"}} for key in keys]}}


def test_get_many_asks_again_for_unprocessed_keys_then_gives_up_as_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("openai_cf.storage.table._BATCH_RETRY_PAUSES", (0.0,) * 5)
    # Given DynamoDB throttling a batch twice, then answering
    throttled = _Throttled(times=2)
    assert Table(throttled, "t").get_many([("p", "s")]) == [{"pk": "p", "sk": "s", "n": 1}]  # type: ignore[arg-type]
    assert throttled.calls == 3
    # Given DynamoDB throttling longer than we wait, then it is a retryable 503
    with pytest.raises(e.ServiceUnavailableError):
        Table(_Throttled(times=100), "t").get_many([("p", "s")])  # type: ignore[arg-type]


def test_a_missing_table_is_a_storage_error_not_a_crash(aws: AwsClients) -> None:
    with pytest.raises(e.InternalServerError) as failed:
        Table(aws, "nope").get("p", "s")
    assert failed.value.code == "storage_error"


@pytest.mark.parametrize(
    "value",
    [{"a": 1, "b": 2.5, "c": "x", "d": None, "e": True, "f": [1, "y", {"z": False}], "g": {"h": -3}}, {"n": 10**15}],
)
def test_items_keep_python_types(value: dict[str, Any]) -> None:
    assert from_item(to_item(value)) == value


def test_blobs_round_trip_in_chunks_and_are_encrypted(aws: AwsClients) -> None:
    blobs = BlobStore(aws, "bucket-b")
    data = os.urandom(700_000)
    blobs.put_file("files/x", io.BytesIO(data), content_type="image/png")
    blob = blobs.open("files/x")
    chunks = list(blob.chunks)
    assert (blob.size, blob.content_type, b"".join(chunks)) == (len(data), "image/png", data)
    assert len(chunks) > 1
    head = aws.client("s3").head_object(Bucket="bucket-b", Key="files/x")
    assert head["ServerSideEncryption"] == "AES256"
    blobs.delete("files/x")
    with pytest.raises(e.InternalServerError):
        blobs.open("files/x")


def test_blobs_read_a_byte_range(aws: AwsClients) -> None:
    blobs = BlobStore(aws, "bucket-b")
    blobs.put_bytes("k", bytes(range(100)))
    blob = blobs.open("k", byte_range=(10, 20))
    assert (blob.size, b"".join(blob.chunks)) == (10, bytes(range(10, 20)))


def test_blobs_join_parts_by_upload_and_by_copy(aws: AwsClients) -> None:
    # Given a source object of 6 MiB (S3 wants parts of 5 MiB at least, but the last)
    blobs = BlobStore(aws, "bucket-b")
    big, small = os.urandom(6 * 1024 * 1024), b"tail"
    blobs.put_bytes("src/big", big)
    # When a multipart upload gets a whole-object copy, a ranged copy and a sent part
    upload_id = blobs.start_multipart("joined", content_type="text/plain")
    receipts = [
        blobs.copy_part("joined", upload_id, 1, "src/big"),
        blobs.copy_part("joined", upload_id, 2, "src/big", byte_range=(1024 * 1024, len(big))),
        blobs.put_part("joined", upload_id, 3, small),
    ]
    blobs.finish_multipart("joined", upload_id, receipts)
    # Then the object is the three pieces in order, typed and encrypted
    blob = blobs.open("joined")
    assert (blob.content_type, b"".join(blob.chunks)) == ("text/plain", big + big[1024 * 1024 :] + small)
    assert aws.client("s3").head_object(Bucket="bucket-b", Key="joined")["ServerSideEncryption"] == "AES256"


def test_blobs_abort_a_multipart_upload_and_delete_by_prefix(aws: AwsClients) -> None:
    blobs = BlobStore(aws, "bucket-b")
    upload_id = blobs.start_multipart("never", content_type="text/plain")
    blobs.put_part("never", upload_id, 1, b"x")
    blobs.abort_multipart("never", upload_id)
    s3 = aws.client("s3")
    assert not s3.list_multipart_uploads(Bucket="bucket-b").get("Uploads")
    for key in ("uploads/a/1", "uploads/a/2", "uploads/ab/1", "files/a"):
        blobs.put_bytes(key, b"x")
    blobs.delete_prefix("uploads/a/")
    left = {item["Key"] for item in s3.list_objects_v2(Bucket="bucket-b")["Contents"]}
    assert left == {"uploads/ab/1", "files/a"}
