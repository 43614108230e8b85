from __future__ import annotations

from typing import Any

import pytest

from openai_cf import errors as e
from openai_cf.services.aliases import merged_aliases
from openai_cf.services.models import ModelRegistry
from openai_cf.workers_ai.catalog import TEXT_EMBEDDINGS, TEXT_GENERATION, packaged_models

NEW_MODEL = "@cf/acme/brand-new-chat"


class FakeClient:
    def __init__(self, *, search_fails: bool = False) -> None:
        self.schema_calls = 0
        self.search_calls = 0
        self.search_fails = search_fails

    def model_schema(self, model: str) -> dict[str, Any]:
        self.schema_calls += 1
        if model != NEW_MODEL:
            raise e.NotFoundError("no such model", code="model_not_found")
        messages = {
            "title": "Messages",
            "properties": {"messages": {"type": "array"}, "max_tokens": {"type": "integer"}},
        }
        return {"input": {"type": "object", "oneOf": [messages]}, "output": {"type": "object"}}

    def search_models(self) -> list[dict[str, Any]]:
        self.search_calls += 1
        if self.search_fails:
            raise e.BadGatewayError("catalogue down")
        return [
            {"name": NEW_MODEL, "task": {"name": "Text Generation"}, "created_at": "2026-10-01 00:00:00",
             "properties": [{"property_id": "function_calling", "value": "true"}]},
            {"name": "@cf/facebook/bart-large-cnn", "task": {"name": "Summarization"}},
        ]  # fmt: skip


def registry(client: FakeClient, **aliases: str) -> ModelRegistry:
    return ModelRegistry(client, merged_aliases(aliases), ttl_seconds=60)  # type: ignore[arg-type]


def test_aliases_resolve_and_can_be_overridden() -> None:
    assert (
        registry(FakeClient()).resolve("gpt-4o", task=TEXT_GENERATION).name == "@cf/meta/llama-4-scout-17b-16e-instruct"
    )
    custom = registry(FakeClient(), **{"gpt-4o": "@cf/zai-org/glm-4.7-flash"})
    assert custom.resolve("gpt-4o", task=TEXT_GENERATION).name == "@cf/zai-org/glm-4.7-flash"


def test_unpackaged_model_is_described_from_upstream_once() -> None:
    # Given a catalogue model newer than the packaged schemas
    client = FakeClient()
    models = registry(client)
    # When it is used twice
    first = models.resolve(NEW_MODEL, task=TEXT_GENERATION)
    models.resolve(NEW_MODEL, task=TEXT_GENERATION)
    # Then its schema was fetched once and it is a usable chat model with tools
    assert client.schema_calls == 1
    profile = models.chat_profile(first)
    assert profile.tools is False  # its schema has no `tools`
    assert "max_tokens" in profile.message_keys


def test_unknown_and_retired_and_wrong_task_models() -> None:
    models = registry(FakeClient())
    with pytest.raises(e.NotFoundError):
        models.resolve("@cf/nobody/nothing", task=TEXT_GENERATION)
    with pytest.raises(e.NotFoundError, match="retired"):
        models.resolve("@cf/facebook/bart-large-cnn", task="Summarization")
    with pytest.raises(e.InvalidRequestError) as info:
        models.resolve("gpt-4o", task=TEXT_EMBEDDINGS)
    assert info.value.param == "model"


def test_listing_is_cached_skips_retired_and_survives_a_catalogue_outage() -> None:
    client = FakeClient()
    models = registry(client)
    ids = [m.id for m in models.list_models().data]
    models.list_models()
    assert client.search_calls == 1
    assert NEW_MODEL in ids
    assert "@cf/facebook/bart-large-cnn" not in ids
    down = registry(FakeClient(search_fails=True))
    fallback = [m.id for m in down.list_models().data]
    assert "@cf/meta/llama-3.3-70b-instruct-fp8-fast" in fallback
    assert len(fallback) >= len([m for m in packaged_models().values() if not m.deprecated])
