"""Assistants through the official SDK (`client.beta.assistants`): records in DynamoDB (moto),
OpenAI's shapes, partial updates, pages, and the 400s and 404s a client can meet."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import pytest
import requests
from openai import OpenAI

from tests.contract.validate import assert_matches

from .conftest import TOKEN, fresh_store

AUTH = {"Authorization": f"Bearer {TOKEN}"}
V2 = {**AUTH, "OpenAI-Beta": "assistants=v2"}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def test_an_assistant_round_trips(client: OpenAI) -> None:
    # Given an assistant with every field OpenAI's has
    created = client.beta.assistants.create(
        model="gpt-4o-mini", name="Weather bot", description="Answers about weather", instructions="Be brief.",
        tools=[WEATHER], metadata={"team": "a"}, temperature=0.3, top_p=0.9,  # type: ignore[list-item]
        response_format={"type": "json_object"}, tool_resources={"code_interpreter": {"file_ids": []}},
    )  # fmt: skip
    # Then it is answered as stored, under an `asst_` id, and reads back the same
    assert created.id.startswith("asst_")
    assert (created.model, created.name, created.instructions, created.metadata) == (
        "gpt-4o-mini", "Weather bot", "Be brief.", {"team": "a"},
    )  # fmt: skip
    assert created.tools[0].model_dump(exclude_none=True) == WEATHER
    assert (created.temperature, created.top_p) == (0.3, 0.9)
    assert created.response_format.type == "json_object"  # type: ignore[union-attr]
    assert client.beta.assistants.retrieve(created.id) == created
    # When it is deleted
    deleted = client.beta.assistants.delete(created.id)
    # Then it is gone
    assert (deleted.id, deleted.deleted, deleted.object) == (created.id, True, "assistant.deleted")
    with pytest.raises(openai.NotFoundError):
        client.beta.assistants.retrieve(created.id)


def test_an_update_changes_only_what_it_sends(client: OpenAI) -> None:
    created = client.beta.assistants.create(
        model="gpt-4o-mini",
        name="n",
        instructions="old",
        tools=[WEATHER],
        metadata={"a": "1"},  # type: ignore[list-item]
    )
    updated = client.beta.assistants.update(created.id, instructions="new", metadata={"b": "2"}, model="gpt-4o")
    assert (updated.instructions, updated.metadata, updated.model) == ("new", {"b": "2"}, "gpt-4o")
    assert (updated.name, updated.tools, updated.created_at) == (created.name, created.tools, created.created_at)
    # An explicit null clears a field; nothing sent changes nothing
    cleared = client.beta.assistants.update(created.id, name=None, tools=[])
    assert (cleared.name, cleared.tools, cleared.instructions) == (None, [], "new")
    assert client.beta.assistants.update(created.id) == cleared


def test_answers_match_openai_schemas(base_url: str, client: OpenAI) -> None:
    created = client.beta.assistants.create(
        model="gpt-4o-mini", tools=[WEATHER],  # type: ignore[list-item]
        response_format={"type": "json_schema", "json_schema": {"name": "r", "schema": {"type": "object"}}},
    )  # fmt: skip
    assert_matches(
        "AssistantObject", requests.get(f"{base_url}/assistants/{created.id}", headers=V2, timeout=10).json()
    )
    listed = requests.get(f"{base_url}/assistants?limit=2", headers=V2, timeout=10).json()
    assert_matches("ListAssistantsResponse", listed)
    deleted = requests.delete(f"{base_url}/assistants/{created.id}", headers=V2, timeout=10).json()
    assert_matches("DeleteAssistantResponse", deleted)


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_listing_pages_through_every_assistant_in_order(sdk_for: Callable[..., OpenAI], order: str) -> None:
    # Given a fresh store holding five assistants
    sdk = sdk_for(**fresh_store())
    ids = [sdk.beta.assistants.create(model="gpt-4o-mini", name=str(i)).id for i in range(5)]
    # When the SDK auto-paginates two at a time
    listed = [a.id for a in sdk.beta.assistants.list(limit=2, order=order)]  # type: ignore[arg-type]
    # Then each comes once, in order
    assert listed == (ids if order == "asc" else ids[::-1])
    page = sdk.beta.assistants.list(limit=2, order="asc")
    assert (page.has_more, page.first_id, page.last_id) == (True, ids[0], ids[1])  # type: ignore[attr-defined]
    before = sdk.beta.assistants.list(limit=2, order="asc", before=ids[3])
    assert [a.id for a in before.data] == ids[1:3]


def test_an_unknown_model_is_a_404_at_create_time(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as refused:
        client.beta.assistants.create(model="gpt-nonexistent")
    assert (refused.value.code, refused.value.param) == ("model_not_found", "model")
    created = client.beta.assistants.create(model="gpt-4o-mini")
    with pytest.raises(openai.NotFoundError):
        client.beta.assistants.update(created.id, model="@cf/nobody/nothing")


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"tools": [{"type": "file_search"}]}, "tools[0].type"),
        ({"tools": [WEATHER, {"type": "code_interpreter"}]}, "tools[1].type"),
        (
            {"tool_resources": {"code_interpreter": {"file_ids": ["file-1"]}}},
            "tool_resources.code_interpreter.file_ids",
        ),
        ({"tool_resources": {"file_search": {"vector_store_ids": ["vs_1"]}}}, "tool_resources.file_search"),
    ],
)
def test_tools_that_cannot_be_honoured_are_refused_by_name(client: OpenAI, kwargs: dict[str, Any], param: str) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.beta.assistants.create(model="gpt-4o-mini", **kwargs)
    assert refused.value.param == param
    assert "not supported yet" in refused.value.message


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
        ({"metadata": {"k" * 65: "v"}}, "metadata." + "k" * 65),
        ({"metadata": {"k": "v" * 513}}, "metadata.k"),
        ({"name": "n" * 257}, "name"),
        ({"description": "d" * 513}, "description"),
        ({"instructions": "i" * 256_001}, "instructions"),
        ({"temperature": 2.5}, "temperature"),
        ({"top_p": -1}, "top_p"),
        ({"tools": [WEATHER] * 129}, "tools"),
        ({"response_format": "text"}, "response_format"),
        ({"tools": [{"type": "function", "function": {"name": "x", "parameters": {"properties": 5}}}]},
         "tools[0].function.parameters.properties"),
        ({"extra_body": {"file_ids": []}}, "file_ids"),
    ],
)  # fmt: skip
def test_bounds_are_400s_naming_the_param(client: OpenAI, kwargs: dict[str, Any], param: str) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.beta.assistants.create(model="gpt-4o-mini", **kwargs)
    assert refused.value.param == param


def test_unknown_ids_are_404(client: OpenAI) -> None:
    for call in (client.beta.assistants.retrieve, client.beta.assistants.delete):
        with pytest.raises(openai.NotFoundError) as refused:
            call("asst_000000000000000000000000")
        assert refused.value.param == "assistant_id"
    with pytest.raises(openai.NotFoundError):
        client.beta.assistants.update("asst_000000000000000000000000", name="x")
    with pytest.raises(openai.NotFoundError):
        client.beta.assistants.retrieve("asst_" + "x" * 3000)


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 200), ({"OpenAI-Beta": "assistants=v2"}, 200), ({"OpenAI-Beta": "realtime=v1, assistants=v2"}, 200),
     ({"OpenAI-Beta": "assistants=v1"}, 400), ({"OpenAI-Beta": "assistants=v3"}, 400)],
)  # fmt: skip
def test_the_beta_header_may_be_absent_but_not_v1(base_url: str, headers: dict[str, str], status: int) -> None:
    response = requests.get(f"{base_url}/assistants?limit=1", headers={**AUTH, **headers}, timeout=10)
    assert response.status_code == status
    if status == 400:
        assert "assistants=v2" in response.json()["error"]["message"]
        assert_matches("ErrorResponse", response.json())


def test_list_parameters_are_checked(base_url: str) -> None:
    for query, param in (("limit=0", "limit"), ("limit=101", "limit"), ("order=up", "order"), ("x=1", "x")):
        response = requests.get(f"{base_url}/assistants?{query}", headers=V2, timeout=10)
        assert response.status_code == 400, query
        assert response.json()["error"]["param"] == param
