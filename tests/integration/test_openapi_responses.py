"""Our answers validate against OpenAI's own response schemas (its OpenAPI spec), so strict clients
and schema validators accept them: fields OpenAI omits are omitted, never sent as null."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.contract.validate import assert_matches

from .conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
TOOL = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
}


def post(base_url: str, path: str, body: dict[str, Any]) -> requests.Response:
    response = requests.post(f"{base_url}{path}", json=body, headers=AUTH, timeout=20)
    return response


def events(response: requests.Response) -> list[Any]:
    lines = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    return [json.loads(line) for line in lines if line != "[DONE]"]


@pytest.mark.parametrize(
    "content", ["emulate:echo plain answer", "emulate:tool=get_weather", "emulate:reasoning emulate:echo x"]
)
@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-4.1"])
def test_chat_completions_match_the_spec(base_url: str, model: str, content: str) -> None:
    body = {"model": model, "messages": [{"role": "user", "content": content}], "tools": [TOOL]}
    answer = post(base_url, "/chat/completions", body).json()
    assert_matches("CreateChatCompletionResponse", answer)
    message = answer["choices"][0]["message"]
    assert "tool_calls" in message if "tool=" in content else "tool_calls" not in message
    stream = post(base_url, "/chat/completions", {**body, "stream": True, "stream_options": {"include_usage": True}})
    for chunk in events(stream):
        assert_matches("CreateChatCompletionStreamResponse", chunk)


def test_completions_embeddings_and_models_match_the_spec(base_url: str) -> None:
    completion = post(base_url, "/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "hi", "n": 2})
    assert_matches("CreateCompletionResponse", completion.json())
    embedding = post(base_url, "/embeddings", {"model": "text-embedding-3-small", "input": ["a", "b"]})
    assert_matches("CreateEmbeddingResponse", embedding.json())
    models = requests.get(f"{base_url}/models", headers=AUTH, timeout=20).json()
    assert_matches("ListModelsResponse", models)
    assert_matches("Model", requests.get(f"{base_url}/models/gpt-4o", headers=AUTH, timeout=20).json())


def test_errors_match_the_spec(base_url: str) -> None:
    assert_matches("ErrorResponse", post(base_url, "/chat/completions", {"model": "gpt-4o-mini"}).json())
    assert_matches("ErrorResponse", requests.get(f"{base_url}/nowhere", headers=AUTH, timeout=20).json())
