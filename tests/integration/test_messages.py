"""Thread messages through the official SDK (`client.beta.threads.messages`): OpenAI's `Message`
shape, content parts, attachments that must exist, pages, and the `run_id` filter."""

from __future__ import annotations

from typing import Any

import openai
import pytest
import requests
from openai import OpenAI

from openai_cf.ids import new_id
from openai_cf.storage.aws import AwsClients
from openai_cf.storage.messages import MessageRecord, MessageRepository
from openai_cf.storage.table import Table
from tests.contract.validate import assert_matches

from .conftest import TABLE, TOKEN, local_aws

V2 = {"Authorization": f"Bearer {TOKEN}", "OpenAI-Beta": "assistants=v2"}


@pytest.fixture
def thread_id(client: OpenAI) -> str:
    return client.beta.threads.create().id


def test_a_message_round_trips_in_openais_shape(client: OpenAI, thread_id: str) -> None:
    # Given a user message with text
    created = client.beta.threads.messages.create(thread_id, role="user", content="Hello", metadata={"k": "v"})
    # Then it is OpenAI's Message: one text block, completed, no run or assistant
    assert created.id.startswith("msg_")
    assert (created.object, created.thread_id, created.role, created.status) == (
        "thread.message", thread_id, "user", "completed",
    )  # fmt: skip
    assert created.content[0].model_dump() == {"type": "text", "text": {"value": "Hello", "annotations": []}}
    assert (created.run_id, created.assistant_id, created.incomplete_details, created.attachments) == (
        None, None, None, [],
    )  # fmt: skip
    assert created.completed_at == created.created_at
    assert client.beta.threads.messages.retrieve(created.id, thread_id=thread_id) == created
    # When its metadata is updated, then only that changes
    updated = client.beta.threads.messages.update(created.id, thread_id=thread_id, metadata={"k2": "v2"})
    assert updated == created.model_copy(update={"metadata": {"k2": "v2"}})
    # When it is deleted, then it is gone
    deleted = client.beta.threads.messages.delete(created.id, thread_id=thread_id)
    assert (deleted.id, deleted.deleted, deleted.object) == (created.id, True, "thread.message.deleted")
    with pytest.raises(openai.NotFoundError) as refused:
        client.beta.threads.messages.retrieve(created.id, thread_id=thread_id)
    assert refused.value.param == "message_id"


def test_content_parts_and_attachments(client: OpenAI, thread_id: str) -> None:
    # Given an uploaded image and a document
    image = client.files.create(file=("cat.png", b"\x89PNG fake"), purpose="vision")
    document = client.files.create(file=("notes.txt", b"notes"), purpose="assistants")
    # When a message carries text, an image URL, the image file and the document as an attachment
    created = client.beta.threads.messages.create(
        thread_id, role="user",
        content=[{"type": "text", "text": "What is this?"},
                 {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "low"}},
                 {"type": "image_file", "image_file": {"file_id": image.id}}],
        attachments=[{"file_id": document.id, "tools": [{"type": "file_search"}]}],
    )  # fmt: skip
    # Then each part is kept in OpenAI's shape
    assert [block.type for block in created.content] == ["text", "image_url", "image_file"]
    assert created.content[1].image_url.model_dump() == {"url": "https://example.com/cat.png", "detail": "low"}  # type: ignore[union-attr]
    assert created.content[2].image_file.model_dump() == {"file_id": image.id, "detail": "auto"}  # type: ignore[union-attr]
    assert created.attachments[0].model_dump() == {"file_id": document.id, "tools": [{"type": "file_search"}]}  # type: ignore[index]


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"attachments": [{"file_id": "file-missing", "tools": []}]}, "attachments[0].file_id"),
        ({"content": [{"type": "text", "text": "x"}, {"type": "image_file", "image_file": {"file_id": "file-gone"}}]},
         "content[1].image_file.file_id"),
    ],
)  # fmt: skip
def test_files_a_message_names_must_exist(client: OpenAI, thread_id: str, kwargs: dict[str, Any], param: str) -> None:
    with pytest.raises(openai.NotFoundError) as refused:
        client.beta.threads.messages.create(thread_id, **{"role": "user", "content": "x", **kwargs})
    assert refused.value.param == param
    assert client.beta.threads.messages.list(thread_id).data == []


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"role": "system", "content": "x"}, "role"),
        ({"role": "user"}, "content"),
        ({"role": "user", "content": []}, "content"),
        ({"role": "user", "content": "x" * 256_001}, "content"),
        ({"role": "user", "content": [{"type": "image_url", "image_url": {"url": "ftp://x/y.png"}}]},
         "content[0].image_url.url"),
        ({"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}, "content[0]"),
        ({"role": "user", "content": "x", "metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
        ({"role": "user", "content": "x", "attachments": [{"file_id": "f", "tools": []}] * 21}, "attachments"),
        ({"role": "user", "content": "x", "file_ids": []}, "file_ids"),
    ],
)  # fmt: skip
def test_bounds_are_400s_naming_the_param(base_url: str, thread_id: str, body: dict[str, Any], param: str) -> None:
    response = requests.post(f"{base_url}/threads/{thread_id}/messages", json=body, headers=V2, timeout=10)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


def test_only_metadata_can_be_updated(base_url: str, client: OpenAI, thread_id: str) -> None:
    created = client.beta.threads.messages.create(thread_id, role="user", content="x")
    url = f"{base_url}/threads/{thread_id}/messages/{created.id}"
    response = requests.post(url, json={"content": "changed"}, headers=V2, timeout=10)
    assert (response.status_code, response.json()["error"]["param"]) == (400, "content")


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_listing_pages_through_every_message_in_order(client: OpenAI, thread_id: str, order: str) -> None:
    ids = [client.beta.threads.messages.create(thread_id, role="user", content=str(i)).id for i in range(5)]
    listed = [m.id for m in client.beta.threads.messages.list(thread_id, limit=2, order=order)]  # type: ignore[arg-type]
    assert listed == (ids if order == "asc" else ids[::-1])
    page = client.beta.threads.messages.list(thread_id, limit=2)
    assert (page.has_more, page.first_id, page.last_id) == (True, ids[4], ids[3])  # type: ignore[attr-defined]


def test_the_run_id_filter_lists_a_runs_messages(client: OpenAI, thread_id: str) -> None:
    # Given a user message, and two messages a run wrote through the repository the executor uses
    client.beta.threads.messages.create(thread_id, role="user", content="question")
    repository = MessageRepository(Table(AwsClients(region="us-east-1", endpoint_url=local_aws()), TABLE))
    run_id = new_id("run_")
    written = []
    for text in ("thinking", "answer"):
        record = MessageRecord(
            id=new_id("msg_"), owner="key_test", thread_id=thread_id, created_at=1, role="assistant",
            content=[{"type": "text", "text": {"value": text, "annotations": []}}], assistant_id="asst_x",
            run_id=run_id, completed_at=1,
        )  # fmt: skip
        assert repository.add(record)
        written.append(record.id)
    # When the SDK lists by run id
    by_run = client.beta.threads.messages.list(thread_id, run_id=run_id, order="asc", limit=1)
    # Then it gets those messages, a page at a time, and the thread's list has all three
    assert [m.id for m in by_run] == written
    assert [m.run_id for m in by_run] == [run_id, run_id]
    assert len(client.beta.threads.messages.list(thread_id).data) == 3
    assert client.beta.threads.messages.list(thread_id, run_id="run_other").data == []


def test_answers_match_openai_schemas(base_url: str, client: OpenAI, thread_id: str) -> None:
    created = client.beta.threads.messages.create(thread_id, role="assistant", content="Hi")
    url = f"{base_url}/threads/{thread_id}/messages"
    assert_matches("MessageObject", requests.get(f"{url}/{created.id}", headers=V2, timeout=10).json())
    assert_matches("ListMessagesResponse", requests.get(url, headers=V2, timeout=10).json())
    assert_matches("DeleteMessageResponse", requests.delete(f"{url}/{created.id}", headers=V2, timeout=10).json())


def test_unknown_ids_are_404(client: OpenAI, thread_id: str) -> None:
    missing = "msg_000000000000000000000000"
    with pytest.raises(openai.NotFoundError):
        client.beta.threads.messages.retrieve(missing, thread_id=thread_id)
    with pytest.raises(openai.NotFoundError):
        client.beta.threads.messages.update(missing, thread_id=thread_id, metadata={})
    with pytest.raises(openai.NotFoundError):
        client.beta.threads.messages.delete(missing, thread_id=thread_id)
    with pytest.raises(openai.NotFoundError) as refused:
        client.beta.threads.messages.create("thread_000000000000000000000000", role="user", content="x")
    assert refused.value.param == "thread_id"
    # A message is found only in its own thread
    other = client.beta.threads.create().id
    created = client.beta.threads.messages.create(thread_id, role="user", content="x")
    with pytest.raises(openai.NotFoundError):
        client.beta.threads.messages.retrieve(created.id, thread_id=other)
