from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from openai_cf import errors as e
from openai_cf.services.aliases import merged_aliases
from openai_cf.services.models import FAILED_CATALOGUE_RETRY_SECONDS, ModelRegistry
from openai_cf.workers_ai.catalog import TEXT_EMBEDDINGS, TEXT_GENERATION, packaged_models

NEW_MODEL = "@cf/acme/brand-new-chat"


class FakeClient:
    def __init__(self, *, search_fails: bool = False, search_delay: float = 0.0) -> None:
        self.schema_calls = 0
        self.search_calls = 0
        self.search_fails = search_fails
        self.search_delay = search_delay

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
        time.sleep(self.search_delay)
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


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_unknown_names_cost_one_catalogue_fetch_and_no_schema_calls() -> None:
    # Given a registry whose catalogue loads
    client = FakeClient()
    models = registry(client)
    # When 3,000 well-formed but unknown Workers AI names are asked for (each used to cost a schema
    # call and a cache entry for the life of the process)
    for i in range(3000):
        with pytest.raises(e.NotFoundError) as info:
            models.resolve(f"@cf/nobody/model-{i:04d}-" + "x" * 100, task=TEXT_GENERATION)
        assert info.value.code == "model_not_found"
    # Then the catalogue was fetched once, no schema was asked for, and nothing was cached per name
    assert client.search_calls == 1
    assert client.schema_calls == 0
    assert len(models._described) == 0
    assert len(models._unknown) == 0


@pytest.mark.parametrize(
    "name",
    [
        "@cf/../../accounts",
        "@cf/meta/llama 3",
        "@cf//double",
        "@cf",
        "@cf/",
        "@xx/meta/model",
        "@cf/meta/model?x=1",
        "@cf/meta/" + "a" * 120,
        "@cf/meta/llama\n",
    ],
)
def test_malformed_workers_ai_names_are_400s_before_any_upstream_call(name: str) -> None:
    # Given a name that cannot be a Workers AI model
    client = FakeClient()
    # When it is resolved
    with pytest.raises(e.InvalidRequestError) as info:
        registry(client).resolve(name, task=TEXT_GENERATION)
    # Then it is a 400 naming `model`, and upstream was never asked
    assert info.value.param == "model"
    assert client.search_calls == 0
    assert client.schema_calls == 0


def test_describing_and_listing_share_one_cached_catalogue() -> None:
    # Given a catalogue model newer than the packaged schemas
    client = FakeClient()
    models = registry(client)
    # When it is listed, described (its catalogue entry gives task and flags) and listed again
    models.list_models()
    info = models.resolve(NEW_MODEL, task=TEXT_GENERATION).info
    models.retrieve(NEW_MODEL)
    # Then the catalogue was fetched once for all of it
    assert client.search_calls == 1
    assert client.schema_calls == 1
    assert info.flags == {"function_calling": "true"}


def test_catalogue_is_refetched_after_its_ttl() -> None:
    # Given a catalogue fetched a minute-long TTL ago, less one second
    clock = Clock()
    client = FakeClient()
    models = ModelRegistry(client, merged_aliases({}), ttl_seconds=60, clock=clock)  # type: ignore[arg-type]
    models.list_models()
    clock.now += 59
    models.list_models()
    assert client.search_calls == 1
    # When the TTL has passed, Then it is fetched again
    clock.now += 2
    models.list_models()
    assert client.search_calls == 2


def test_without_a_catalogue_the_schema_endpoint_decides_and_denials_are_bounded_and_expire() -> None:
    # Given a registry whose catalogue API is down, with a small negative cache
    clock = Clock()
    client = FakeClient(search_fails=True)
    models = ModelRegistry(client, merged_aliases({}), ttl_seconds=60, clock=clock, max_unknown=10)  # type: ignore[arg-type]
    # When a new model and then 3,000 unknown names are asked for
    assert models.resolve(NEW_MODEL, task=TEXT_GENERATION).name == NEW_MODEL
    for i in range(3000):
        with pytest.raises(e.NotFoundError):
            models.resolve(f"@cf/nobody/m{i}", task=TEXT_GENERATION)
    # Then the schema endpoint answered each, the failed catalogue was not re-fetched per name,
    # and the denials kept are bounded
    assert client.schema_calls == 3001
    assert client.search_calls == 1
    assert len(models._unknown) == 10
    # And a recent denial is remembered, until its TTL has passed
    with pytest.raises(e.NotFoundError):
        models.resolve("@cf/nobody/m2999", task=TEXT_GENERATION)
    assert client.schema_calls == 3001
    clock.now += 61
    with pytest.raises(e.NotFoundError):
        models.resolve("@cf/nobody/m2999", task=TEXT_GENERATION)
    assert client.schema_calls == 3002


def test_a_failed_catalogue_is_asked_again_sooner_than_the_ttl() -> None:
    # Given a catalogue API that failed once
    clock = Clock()
    client = FakeClient(search_fails=True)
    models = ModelRegistry(client, merged_aliases({}), ttl_seconds=600, clock=clock)  # type: ignore[arg-type]
    models.list_models()
    client.search_fails = False
    # When it has recovered and the short retry interval has passed
    clock.now += FAILED_CATALOGUE_RETRY_SECONDS + 1
    # Then the real catalogue is served, well before the TTL
    assert NEW_MODEL in [m.id for m in models.list_models().data]
    assert client.search_calls == 2


def test_described_models_are_bounded() -> None:
    # Given a registry that keeps at most two described models
    client = ManyModelsClient()
    models = ModelRegistry(client, merged_aliases({}), ttl_seconds=60, max_described=2)  # type: ignore[arg-type]
    # When five catalogue models are described
    for i in range(5):
        models.resolve(f"@cf/acme/m{i}", task=TEXT_GENERATION)
    # Then only the two most recent are kept
    assert len(models._described) == 2


def test_concurrent_first_requests_fetch_the_catalogue_once() -> None:
    # Given a slow catalogue and sixteen requests arriving together
    client = FakeClient(search_delay=0.05)
    models = registry(client)
    barrier = threading.Barrier(16)

    def ask(i: int) -> None:
        barrier.wait()
        with pytest.raises(e.NotFoundError):
            models.resolve(f"@cf/nobody/m{i}", task=TEXT_GENERATION)

    # When they all need it at once
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(ask, range(16)))
    # Then it was fetched once
    assert client.search_calls == 1


class ManyModelsClient(FakeClient):
    def model_schema(self, model: str) -> dict[str, Any]:
        self.schema_calls += 1
        return {"input": {"properties": {"messages": {"type": "array"}}}, "output": {}}

    def search_models(self) -> list[dict[str, Any]]:
        self.search_calls += 1
        return [{"name": f"@cf/acme/m{i}", "task": {"name": "Text Generation"}} for i in range(5)]


class StringTaskClient(ManyModelsClient):
    def search_models(self) -> list[dict[str, Any]]:
        self.search_calls += 1
        return [{"name": "@cf/acme/m0", "task": "Text Generation"}]


def test_a_catalogue_entry_with_a_string_task_is_understood() -> None:
    # Given a catalogue entry whose task is a bare string rather than {"name": ...}
    models = registry(StringTaskClient())
    # When the model is described, Then it resolves as the text-generation model it is
    assert models.resolve("@cf/acme/m0", task=TEXT_GENERATION).info.task == TEXT_GENERATION
