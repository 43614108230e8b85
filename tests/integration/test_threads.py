"""Threads through the official SDK (`client.beta.threads`): created with first messages, updated,
and deleted with every message they hold."""

from __future__ import annotations

from typing import Any

import openai
import pytest
import requests
from openai import OpenAI

from openai_cf.settings import Settings
from openai_cf.storage.aws import AwsClients
from openai_cf.storage.table import Table
from tests.contract.validate import assert_matches

from .conftest import TABLE, TOKEN, local_aws

V2 = {"Authorization": f"Bearer {TOKEN}", "OpenAI-Beta": "assistants=v2"}


def stored_keys(thread_id: str) -> list[tuple[str, str]]:
    """Every item of the test table that belongs to the thread (a scan of the local moto table)."""
    settings = Settings(aws_endpoint_url=local_aws(), aws_region="us-east-1")
    db = Table(AwsClients(region=settings.aws_region, endpoint_url=settings.aws_endpoint_url), TABLE)
    items = db._clients.client("dynamodb").scan(TableName=TABLE)["Items"]
    keys = [(item["pk"]["S"], item["sk"]["S"]) for item in items]
    return [key for key in keys if key[0].startswith(thread_id) or key[1] == thread_id]


def test_a_thread_round_trips_with_its_first_messages(client: OpenAI) -> None:
    # Given a thread created with three messages, metadata and empty tool resources
    thread = client.beta.threads.create(
        messages=[{"role": "user", "content": "one"}, {"role": "assistant", "content": "two"},
                  {"role": "user", "content": [{"type": "text", "text": "three"}], "metadata": {"n": "3"}}],
        metadata={"user": "42"}, tool_resources={"code_interpreter": {"file_ids": []}},
    )  # fmt: skip
    # Then it reads back as created, and its messages are there in order
    assert thread.id.startswith("thread_")
    assert (thread.metadata, thread.tool_resources.code_interpreter.file_ids) == ({"user": "42"}, [])  # type: ignore[union-attr]
    assert client.beta.threads.retrieve(thread.id) == thread
    messages = list(client.beta.threads.messages.list(thread.id, order="asc"))
    assert [(m.role, m.content[0].text.value) for m in messages] == [  # type: ignore[union-attr]
        ("user", "one"), ("assistant", "two"), ("user", "three"),
    ]  # fmt: skip
    assert messages[2].metadata == {"n": "3"}
    assert {m.thread_id for m in messages} == {thread.id}


def test_a_thread_needs_no_arguments(client: OpenAI, base_url: str) -> None:
    thread = client.beta.threads.create()
    assert (thread.metadata, client.beta.threads.messages.list(thread.id).data) == ({}, [])
    # curl without a body at all
    response = requests.post(f"{base_url}/threads", headers=V2, timeout=10)
    assert response.status_code == 200
    assert_matches("ThreadObject", response.json())


def test_an_update_changes_only_what_it_sends(client: OpenAI) -> None:
    thread = client.beta.threads.create(metadata={"a": "1"}, tool_resources={"file_search": {"vector_store_ids": []}})
    updated = client.beta.threads.update(thread.id, metadata={"b": "2"})
    assert (updated.metadata, updated.tool_resources) == ({"b": "2"}, thread.tool_resources)
    assert client.beta.threads.update(thread.id) == updated


def test_deleting_a_thread_deletes_its_messages(client: OpenAI) -> None:
    # Given a thread with messages
    thread = client.beta.threads.create(messages=[{"role": "user", "content": str(i)} for i in range(5)])
    message = client.beta.threads.messages.create(thread.id, role="user", content="more")
    assert len(stored_keys(thread.id)) == 7
    # When it is deleted
    deleted = client.beta.threads.delete(thread.id)
    # Then it and everything in it are gone
    assert (deleted.id, deleted.deleted, deleted.object) == (thread.id, True, "thread.deleted")
    assert stored_keys(thread.id) == []
    for call in (
        lambda: client.beta.threads.retrieve(thread.id),
        lambda: client.beta.threads.update(thread.id, metadata={}),
        lambda: client.beta.threads.delete(thread.id),
        lambda: client.beta.threads.messages.list(thread.id),
        lambda: client.beta.threads.messages.retrieve(message.id, thread_id=thread.id),
        lambda: client.beta.threads.messages.create(thread.id, role="user", content="late"),
    ):
        with pytest.raises(openai.NotFoundError):
            call()


def test_answers_match_openai_schemas(base_url: str, client: OpenAI) -> None:
    thread = client.beta.threads.create(metadata={"k": "v"})
    assert_matches("ThreadObject", requests.get(f"{base_url}/threads/{thread.id}", headers=V2, timeout=10).json())
    deleted = requests.delete(f"{base_url}/threads/{thread.id}", headers=V2, timeout=10).json()
    assert_matches("DeleteThreadResponse", deleted)


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
        ({"tool_resources": {"file_search": {"vector_stores": [{"file_ids": ["file-1"]}]}}},
         "tool_resources.file_search"),
        ({"tool_resources": {"code_interpreter": {"file_ids": [f"f{i}" for i in range(21)]}}},
         "tool_resources.code_interpreter.file_ids"),
        ({"messages": [{"role": "system", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": "x", "metadata": {"k": "v" * 513}}]}, "messages[0].metadata.k"),
        ({"messages": [{"role": "user", "content": "x"}] * 101}, "messages"),
        ({"messages": [{"role": "user", "content": "ok"}, {"role": "user", "content": "é" * 200_000}]},
         "messages[1].content"),
    ],
)  # fmt: skip
def test_bounds_are_400s_naming_the_param(client: OpenAI, kwargs: dict[str, Any], param: str) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.beta.threads.create(**kwargs)
    assert refused.value.param == param


def test_a_missing_attachment_in_a_first_message_creates_nothing(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as refused:
        client.beta.threads.create(
            messages=[{"role": "user", "content": "x", "attachments": [{"file_id": "file-nope", "tools": []}]}]
        )
    assert refused.value.param == "messages[0].attachments[0].file_id"


def test_unknown_ids_are_404(client: OpenAI) -> None:
    for call in (client.beta.threads.retrieve, client.beta.threads.delete):
        with pytest.raises(openai.NotFoundError) as refused:
            call("thread_000000000000000000000000")
        assert refused.value.param == "thread_id"
