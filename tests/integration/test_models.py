"""GET /v1/models and /v1/models/{model}: aliases plus the Workers AI catalogue."""

from __future__ import annotations

import openai
import pytest
from openai import OpenAI


def test_list_has_aliases_and_catalogue_in_seconds(client: OpenAI) -> None:
    models = {m.id: m for m in client.models.list()}
    assert models["gpt-4o"].owned_by == "openai-cf"
    assert models["@cf/meta/llama-3.3-70b-instruct-fp8-fast"].owned_by == "meta"
    # Timestamps are seconds, not milliseconds (a bug of the seed project).
    assert all(0 <= m.created < 4_000_000_000 for m in models.values())
    # Retired models are not offered.
    assert "@cf/facebook/bart-large-cnn" not in models


def test_retrieve_catalogue_model_with_slashes_round_trips(client: OpenAI) -> None:
    # The SDK sends /v1/models/@cf%2Fmeta%2Fllama-3.1-8b-instruct-fast
    model = client.models.retrieve("@cf/meta/llama-3.1-8b-instruct-fast")
    assert model.id == "@cf/meta/llama-3.1-8b-instruct-fast"
    assert model.object == "model"


def test_retrieve_alias(client: OpenAI) -> None:
    assert client.models.retrieve("text-embedding-3-small").id == "text-embedding-3-small"


def test_unknown_model_is_404(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.models.retrieve("gpt-17")
    assert info.value.code == "model_not_found"
