"""Files through the official SDK: bytes in S3 (moto), records in DynamoDB, OpenAI's shapes."""

from __future__ import annotations

import io
from collections.abc import Callable

import openai
import pytest
import requests
from openai import OpenAI

from tests.contract.validate import assert_matches

from .conftest import TOKEN, fresh_store

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_a_file_round_trips(client: OpenAI) -> None:
    # Given bytes that are not text
    data = bytes(range(256)) * 40
    # When they are uploaded, listed, retrieved, read back and deleted
    created = client.files.create(file=("blob.bin", io.BytesIO(data)), purpose="assistants")
    assert created.id.startswith("file-")
    assert (created.bytes, created.filename, created.purpose, created.status) == (
        len(data),
        "blob.bin",
        "assistants",
        "processed",
    )
    assert client.files.wait_for_processing(created.id).status == "processed"
    assert client.files.retrieve(created.id) == created
    assert created.id in [f.id for f in client.files.list(purpose="assistants")]
    assert client.files.content(created.id).read() == data
    deleted = client.files.delete(created.id)
    # Then each answer is OpenAI's, and the file is gone with its bytes
    assert (deleted.id, deleted.deleted) == (created.id, True)
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        client.files.content(created.id)
    assert created.id not in [f.id for f in client.files.list()]


def test_answers_match_openai_schemas(base_url: str, client: OpenAI) -> None:
    created = client.files.create(file=("a.txt", b"hello"), purpose="user_data")
    raw = requests.get(f"{base_url}/files/{created.id}", headers=AUTH, timeout=10).json()
    assert_matches("OpenAIFile", raw)
    assert_matches("ListFilesResponse", requests.get(f"{base_url}/files?limit=2", headers=AUTH, timeout=10).json())
    deleted = requests.delete(f"{base_url}/files/{created.id}", headers=AUTH, timeout=10).json()
    assert_matches("DeleteFileResponse", deleted)


def test_listing_pages_in_both_orders_and_filters_by_purpose(sdk_for: Callable[..., OpenAI]) -> None:
    # Given a fresh store (its own table) holding five vision files and one batch file
    sdk = sdk_for(**fresh_store())
    ids = [sdk.files.create(file=(f"{i}.png", b"x" * (i + 1)), purpose="vision").id for i in range(5)]
    other = sdk.files.create(file=("b.jsonl", b"{}"), purpose="batch").id
    # When the SDK auto-paginates two at a time, both ways
    newest_first = [f.id for f in sdk.files.list(purpose="vision", limit=2, order="desc")]
    oldest_first = [f.id for f in sdk.files.list(purpose="vision", limit=2, order="asc")]
    # Then every file comes once, in order, and only the asked purpose
    assert newest_first == list(reversed(ids))
    assert oldest_first == ids
    page = sdk.files.list(purpose="vision", limit=2, order="asc")
    assert (page.has_more, page.first_id, page.last_id) == (True, ids[0], ids[1])  # type: ignore[attr-defined]
    assert other not in newest_first
    assert [f.id for f in sdk.files.list(purpose="batch")] == [other]
    assert [f.id for f in sdk.files.list()] == [other, *reversed(ids)]


def test_expiring_file(client: OpenAI) -> None:
    created = client.files.create(
        file=("t.txt", b"soon gone"), purpose="user_data", expires_after={"anchor": "created_at", "seconds": 3600}
    )
    assert created.expires_at == created.created_at + 3600


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"purpose": "nonsense"}, "purpose"),
        ({"purpose": "assistants", "expires_after": {"anchor": "created_at", "seconds": 60}}, "expires_after.seconds"),
        (
            {"purpose": "assistants", "expires_after": {"anchor": "last_active_at", "seconds": 3600}},
            "expires_after.anchor",
        ),
    ],
)
def test_bad_fields_name_the_param(client: OpenAI, kwargs: dict[str, object], param: str) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.files.create(file=("x.txt", b"x"), **kwargs)  # type: ignore[arg-type]
    assert refused.value.body["param"] == param  # type: ignore[index]


def test_empty_and_missing_files_are_400(base_url: str, client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.files.create(file=("empty.txt", b""), purpose="assistants")
    assert refused.value.body["param"] == "file"  # type: ignore[index]
    response = requests.post(f"{base_url}/files", headers=AUTH, files={"purpose": (None, "assistants")}, timeout=10)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "file"


def test_a_file_over_the_one_request_limit_is_413_and_says_how_to_send_it(client: OpenAI) -> None:
    # Given a file larger than a deployed API can carry in one request (~4.4 MiB)
    with pytest.raises(openai.APIStatusError) as refused:
        client.files.create(file=("big.bin", b"\0" * (5 * 1024 * 1024)), purpose="assistants")
    # Then it is a 413 in OpenAI's envelope that points at the Uploads API
    assert refused.value.status_code == 413
    assert "uploads" in refused.value.body["message"].lower()  # type: ignore[index]


def test_unknown_ids_are_404(client: OpenAI) -> None:
    for call in (client.files.retrieve, client.files.delete, client.files.content):
        with pytest.raises(openai.NotFoundError):
            call("file-000000000000000000000000")


def test_list_parameters_are_checked(base_url: str) -> None:
    for query, param in (("limit=0", "limit"), ("limit=10001", "limit"), ("order=up", "order"), ("x=1", "x")):
        response = requests.get(f"{base_url}/files?{query}", headers=AUTH, timeout=10)
        assert response.status_code == 400, query
        assert response.json()["error"]["param"] == param
