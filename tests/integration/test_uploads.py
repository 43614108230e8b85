"""Uploads through the official SDK: a file larger than one request, sent in parts and joined in
S3 (moto), then served by the Files API; OpenAI's shapes and errors."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import openai
import pytest
import requests
from openai import OpenAI

from tests.contract.validate import assert_matches

from .conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
MiB = 1024 * 1024


def post(base_url: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.post(f"{base_url}{path}", headers=AUTH, timeout=20, **kwargs)


def test_a_file_larger_than_one_request_goes_up_in_parts(client: OpenAI, tmp_path: Path) -> None:
    # Given a 10 MiB file: more than twice what one request may carry (4.4 MiB)
    data = os.urandom(10 * MiB + 17)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    # When the SDK sends it in parts of 4 MiB and completes the upload
    upload = client.uploads.upload_file_chunked(
        file=path, mime_type="application/octet-stream", purpose="assistants", part_size=4 * MiB,
        md5=hashlib.md5(data).hexdigest(),
    )  # fmt: skip
    # Then the upload is completed as a File that works with the whole Files API
    assert (upload.status, upload.bytes, upload.filename) == ("completed", len(data), "big.bin")
    assert upload.file is not None
    file = upload.file
    assert (file.bytes, file.filename, file.purpose, file.status) == (len(data), "big.bin", "assistants", "processed")
    assert client.files.retrieve(file.id) == file
    assert file.id in [f.id for f in client.files.list(purpose="assistants")]
    assert client.files.content(file.id).read() == data
    assert client.files.delete(file.id).deleted
    with pytest.raises(openai.NotFoundError):
        client.files.content(file.id)


def test_parts_by_hand_joined_in_the_order_of_part_ids(base_url: str, client: OpenAI) -> None:
    # Given an upload created over plain HTTP, and three parts sent one by one
    created = post(base_url, "/uploads", json={"filename": "abc.txt", "purpose": "user_data", "bytes": 9,
                                               "mime_type": "text/plain"})  # fmt: skip
    assert created.status_code == 200
    assert_matches("Upload", created.json())
    upload = created.json()
    assert (upload["status"], upload["expires_at"] - upload["created_at"], upload["file"]) == ("pending", 3600, None)
    parts = [post(base_url, f"/uploads/{upload['id']}/parts", files={"data": ("upload", chunk)})
             for chunk in (b"aaa", b"bbb", b"ccc")]  # fmt: skip
    for part in parts:
        assert part.status_code == 200
        assert_matches("UploadPart", part.json())
        assert part.json()["upload_id"] == upload["id"] and part.json()["id"].startswith("part_")
    a, b, c = (part.json()["id"] for part in parts)
    # When it is completed as c, a, b
    completed = post(base_url, f"/uploads/{upload['id']}/complete", json={"part_ids": [c, a, b]})
    # Then the File holds the parts in that order, and the answer is OpenAI's Upload
    assert completed.status_code == 200
    assert_matches("Upload", completed.json())
    done = completed.json()
    assert (done["status"], done["file"]["bytes"], done["file"]["purpose"]) == ("completed", 9, "user_data")
    assert client.files.content(done["file"]["id"]).read() == b"cccaaabbb"


def test_cancel(base_url: str, client: OpenAI) -> None:
    # Given an upload with a part
    upload = client.uploads.create(bytes=3, filename="x.txt", purpose="assistants", mime_type="text/plain")
    part = client.uploads.parts.create(upload_id=upload.id, data=b"abc")
    # When it is cancelled
    cancelled = post(base_url, f"/uploads/{upload.id}/cancel")
    assert_matches("Upload", cancelled.json())
    assert (cancelled.json()["id"], cancelled.json()["status"]) == (upload.id, "cancelled")
    assert client.uploads.cancel(upload.id).status == "cancelled"
    # Then it takes no more parts and cannot complete
    with pytest.raises(openai.BadRequestError) as no_part:
        client.uploads.parts.create(upload_id=upload.id, data=b"def")
    assert no_part.value.code == "upload_cancelled"
    with pytest.raises(openai.BadRequestError):
        client.uploads.complete(upload.id, part_ids=[part.id])


def test_complete_twice_is_400(client: OpenAI) -> None:
    upload = client.uploads.create(bytes=3, filename="x.txt", purpose="assistants", mime_type="text/plain")
    part = client.uploads.parts.create(upload_id=upload.id, data=b"abc")
    first = client.uploads.complete(upload.id, part_ids=[part.id])
    assert first.file is not None
    with pytest.raises(openai.BadRequestError) as again:
        client.uploads.complete(upload.id, part_ids=[part.id])
    assert again.value.code == "upload_completed"
    assert first.file.id in again.value.message
    with pytest.raises(openai.BadRequestError):
        client.uploads.parts.create(upload_id=upload.id, data=b"more")


def test_unknown_uploads_are_404(client: OpenAI) -> None:
    missing = "upload_000000000000000000000000"
    for call in (
        lambda: client.uploads.parts.create(upload_id=missing, data=b"x"),
        lambda: client.uploads.complete(missing, part_ids=["part_x"]),
        lambda: client.uploads.cancel(missing),
    ):
        with pytest.raises(openai.NotFoundError) as refused:
            call()
        assert refused.value.body["param"] == "upload_id"  # type: ignore[index]


def test_a_size_that_does_not_add_up_is_400_and_the_upload_stays_pending(client: OpenAI) -> None:
    upload = client.uploads.create(bytes=6, filename="x.txt", purpose="assistants", mime_type="text/plain")
    first = client.uploads.parts.create(upload_id=upload.id, data=b"abc")
    with pytest.raises(openai.BadRequestError) as refused:
        client.uploads.complete(upload.id, part_ids=[first.id])
    assert refused.value.body["param"] == "part_ids"  # type: ignore[index]
    second = client.uploads.parts.create(upload_id=upload.id, data=b"def")
    assert client.uploads.complete(upload.id, part_ids=[first.id, second.id]).status == "completed"


def test_a_part_over_the_one_request_limit_is_413(client: OpenAI) -> None:
    upload = client.uploads.create(bytes=5 * MiB, filename="x.bin", purpose="assistants", mime_type="text/plain")
    with pytest.raises(openai.APIStatusError) as refused:
        client.uploads.parts.create(upload_id=upload.id, data=b"\0" * (5 * MiB))
    assert refused.value.status_code == 413


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"purpose": "nonsense"}, "purpose"),
        ({"bytes": 0}, "bytes"),
        ({"bytes": 9 * 1024**3}, "bytes"),
        ({"mime_type": "text/plain\r\nx-evil: 1"}, "mime_type"),
        ({"filename": ""}, "filename"),
        ({"expires_after": {"anchor": "created_at", "seconds": 60}}, "expires_after.seconds"),
        ({"color": "red"}, "color"),
    ],
)
def test_bad_create_fields_name_the_param(base_url: str, body: dict[str, Any], param: str) -> None:
    valid = {"filename": "x.txt", "purpose": "assistants", "bytes": 3, "mime_type": "text/plain"}
    response = post(base_url, "/uploads", json={**valid, **body})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


@pytest.mark.parametrize(
    ("body", "param"), [({"part_ids": []}, "part_ids"), ({"part_ids": ["part_x"], "md5": "nope"}, "md5")]
)
def test_bad_complete_fields_name_the_param(client: OpenAI, base_url: str, body: dict[str, Any], param: str) -> None:
    upload = client.uploads.create(bytes=3, filename="x.txt", purpose="assistants", mime_type="text/plain")
    response = post(base_url, f"/uploads/{upload.id}/complete", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


def test_a_part_needs_its_data_and_nothing_else(client: OpenAI, base_url: str) -> None:
    upload = client.uploads.create(bytes=3, filename="x.txt", purpose="assistants", mime_type="text/plain")
    for files, param in (
        ({"other": ("upload", b"abc")}, "data"),
        ({"data": ("upload", b"")}, "data"),
        ({"data": ("upload", b"abc"), "extra": (None, "1")}, "extra"),
    ):
        response = post(base_url, f"/uploads/{upload.id}/parts", files=files)
        assert response.status_code == 400, files
        assert response.json()["error"]["param"] == param
