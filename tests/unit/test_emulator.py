"""Tests of the offline Workers AI emulator (a development and test double, not Workers AI)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import requests
from starlette.testclient import TestClient

from openai_cf.local.emulator import EmulatorServer, create_app
from openai_cf.local.emulator.directives import parse_directives, strip_directives
from openai_cf.local.emulator.generation import OPENING, REASONING
from openai_cf.local.emulator.json_synth import synthesise
from openai_cf.tokens import estimate_tokens

TOKEN = "emulator-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BASE = "/client/v4/accounts/acct-123/ai"
NOW = 1_700_000_000.0

LLAMA33 = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"
MISTRAL_SMALL = "@cf/mistralai/mistral-small-3.1-24b-instruct"
GLM = "@cf/zai-org/glm-4.7-flash"
QWEN3 = "@cf/qwen/qwen3-30b-a3b-fp8"

WEATHER_PARAMS = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "City name"},
        "days": {"type": "integer", "description": "Forecast days"},
    },
    "required": ["city"],
}
OPENAI_TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": WEATHER_PARAMS}},
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "description": "Time",
            "parameters": {"type": "object", "properties": {"zone": {"type": "string", "description": "TZ"}}},
        },
    },
]
LEGACY_TOOLS = [{"name": "get_weather", "description": "Weather", "parameters": WEATHER_PARAMS}]


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(api_token=TOKEN, now=lambda: NOW)) as test_client:
        yield test_client


def user(text: str, **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}], **extra}


def run(client: TestClient, model: str, body: dict[str, Any]) -> Any:
    return client.post(f"{BASE}/run/{model}", json=body, headers=AUTH)


def result_of(client: TestClient, model: str, body: dict[str, Any]) -> Any:
    response = run(client, model, body)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["success"] is True
    assert payload["errors"] == []
    assert payload["messages"] == []
    return payload["result"]


def parse_sse(raw: str) -> list[Any]:
    events: list[Any] = []
    for block in raw.split("\n\n"):
        if not block.strip():
            continue
        assert block.startswith("data: "), block
        data = block[len("data: ") :]
        events.append(data if data == "[DONE]" else json.loads(data))
    return events


def stream(client: TestClient, model: str, body: dict[str, Any]) -> list[Any]:
    with client.stream("POST", f"{BASE}/run/{model}", json={**body, "stream": True}, headers=AUTH) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return parse_sse(response.read().decode())


def error_of(response: Any) -> tuple[int, int, str]:
    payload = response.json()
    assert payload["success"] is False
    assert payload["messages"] == []
    [error] = payload["errors"]
    return response.status_code, error["code"], error["message"]


def native_text(events: list[Any]) -> str:
    return "".join(str(e.get("response", "")) for e in events if isinstance(e, dict))


def openai_content(events: list[Any], key: str = "content") -> str:
    chunks = [e for e in events if isinstance(e, dict) and e.get("object") == "chat.completion.chunk"]
    return "".join(c["choices"][0]["delta"].get(key) or "" for c in chunks if c["choices"])


# --- Routing, auth, envelopes --------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}])
def test_requests_without_the_right_bearer_token_get_401_10000(client: TestClient, headers: dict[str, str]) -> None:
    # Given a request without the emulator's token
    # When it hits any route
    response = client.post(f"{BASE}/run/{LLAMA33}", json={"prompt": "hi"}, headers=headers)
    # Then it is refused with Cloudflare's authentication error
    assert response.status_code == 401
    assert response.json() == {
        "result": None,
        "success": False,
        "errors": [{"code": 10000, "message": "Authentication error"}],
        "messages": [],
    }


def test_unknown_route_is_404_7003(client: TestClient) -> None:
    # Given an authenticated request to a path that does not exist
    response = client.get("/client/v4/accounts/acct-123/ai/v1/models", headers=AUTH)
    # Then Cloudflare's routing error is returned
    status, code, message = error_of(response)
    assert (status, code) == (404, 7003)
    assert message == (
        "Could not route to /client/v4/accounts/acct-123/ai/v1/models, perhaps your object identifier is invalid?"
    )


def test_wrong_method_is_405_7001(client: TestClient) -> None:
    # When the run route is called with GET
    response = client.get(f"{BASE}/run/{LLAMA33}", headers=AUTH)
    # Then the method error names the method
    assert error_of(response) == (405, 7001, "GET not supported for requested URI.")


def test_unknown_model_is_400_5007(client: TestClient) -> None:
    response = run(client, "@cf/nobody/nothing", {"prompt": "hi"})
    assert error_of(response) == (400, 5007, "No such model @cf/nobody/nothing or task")
    assert response.json()["result"] is None


def test_deprecated_model_is_400_5028(client: TestClient) -> None:
    # Given bart-large-cnn, retired on 2026-05-30
    response = run(client, "@cf/facebook/bart-large-cnn", {"input_text": "A long article."})
    # Then the retirement error is returned
    assert error_of(response) == (
        400,
        5028,
        "This model was deprecated on 2026-05-30. Please use an alternative model",
    )


def test_unimplemented_task_is_a_400(client: TestClient) -> None:
    # Image classification: no endpoint of ours calls it, so the emulator does not model it.
    response = run(client, "@cf/microsoft/resnet-50", {"image": [1, 2, 3]})
    status, code, message = error_of(response)
    assert (status, code) == (400, 5007)
    assert "does not implement task Image Classification" in message


@pytest.mark.parametrize(("raw", "fragment"), [(b"{nope", "Invalid JSON body"), (b"[1, 2]", "'array' not in 'object'")])
def test_body_must_be_a_json_object(client: TestClient, raw: bytes, fragment: str) -> None:
    response = client.post(f"{BASE}/run/{LLAMA33}", content=raw, headers=AUTH)
    status, code, message = error_of(response)
    assert (status, code) == (400, 5006)
    assert fragment in message
    assert response.json()["result"] == {}


# --- Schema validation ---------------------------------------------------------------------------


def test_array_content_to_llama33_is_a_5006_type_mismatch(client: TestClient) -> None:
    # Given llama-3.3, whose schema wants string content
    body = {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}
    # When it gets OpenAI content parts
    response = run(client, LLAMA33, body)
    # Then it fails like Workers AI does
    status, code, message = error_of(response)
    assert (status, code) == (400, 5006)
    assert message.startswith("AiError: Bad input: oneOf at '/' not met, 0 matches")
    assert "Type mismatch of '/messages/0/content', 'array' not in 'string'" in message
    assert response.json()["result"] == {}


def test_unknown_key_is_rejected_where_the_schema_forbids_additional_properties(client: TestClient) -> None:
    # Given glm-4.7-flash (chat-completions stand-in schema, additionalProperties: false)
    response = run(client, GLM, user("hi", logit_bias={"1": 2}))
    # Then the unknown key is a 5006
    status, code, message = error_of(response)
    assert (status, code) == (400, 5006)
    assert "Additional or unevaluated properties '/logit_bias' at '/' not allowed" in message


def test_unknown_key_is_accepted_where_the_schema_allows_it(client: TestClient) -> None:
    # llama-3.3's schema has no additionalProperties: false
    assert result_of(client, LLAMA33, user("hi", logit_bias={"1": 2}))["response"]


def test_prompt_and_messages_together_match_two_branches(client: TestClient) -> None:
    response = run(client, LLAMA33, {"prompt": "hi", **user("hi")})
    status, code, message = error_of(response)
    assert (status, code) == (400, 5006)
    assert "2 matches" in message


def test_options_is_stripped_before_validation(client: TestClient) -> None:
    # Given a strict schema and the rejectIfBusy option Cloudflare strips
    result = result_of(client, GLM, user("hi", options={"rejectIfBusy": True}))
    # Then the request is served
    assert result["object"] == "chat.completion"


def test_malformed_tools_are_rejected_by_the_schema(client: TestClient) -> None:
    # Given a tool without its required `function` object
    response = run(client, GLM, user("hi", tools=[{"type": "function"}]))
    # Then schema validation rejects it
    assert error_of(response)[:2] == (400, 5006)


def test_tool_directive_is_ignored_by_models_without_tools(client: TestClient) -> None:
    # Given llama-guard, whose schema neither lists nor forbids `tools`
    result = result_of(client, "@cf/meta/llama-guard-3-8b", user("emulate:tool=get_weather", tools=OPENAI_TOOLS))
    # Then it answers its verdict, as Llama Guard does, and never calls the tool
    assert "tool_calls" not in result
    assert result["response"] == "safe"


# --- Text generation: native dialect ---------------------------------------------------------------


def test_native_non_stream_shape_and_usage(client: TestClient) -> None:
    # Given a two-message conversation
    body = {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}]}
    # When llama-3.3 answers
    result = result_of(client, LLAMA33, body)
    # Then the native shape carries the default 24-token reply and plausible usage
    assert set(result) == {"response", "tool_calls", "usage"}
    assert result["response"].startswith(OPENING)
    assert len(result["response"].split()) == 24
    assert result["tool_calls"] == []
    prompt_tokens = estimate_tokens("Be brief.") + 3 + estimate_tokens("Hello there") + 3
    assert result["usage"] == {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": 24,
        "total_tokens": prompt_tokens + 24,
    }


def test_prompt_input_counts_prompt_tokens(client: TestClient) -> None:
    result = result_of(client, LLAMA33, {"prompt": "Tell me, please: why?"})
    assert result["usage"]["prompt_tokens"] == estimate_tokens("Tell me, please: why?")


def test_reply_depends_only_on_model_input_and_seed(client: TestClient) -> None:
    # Given the same request twice, and variants
    first = result_of(client, LLAMA33, user("hi", seed=7))["response"]
    again = result_of(client, LLAMA33, user("hi", seed=7, temperature=1.5))["response"]
    other_seed = result_of(client, LLAMA33, user("hi", seed=8))["response"]
    other_model = result_of(client, "@cf/meta/llama-3.1-8b-instruct-fast", user("hi", seed=7))["response"]
    # Then only model, input and seed matter
    assert first == again
    assert first != other_seed
    assert first != other_model


def test_native_stream_shape(client: TestClient) -> None:
    # When llama-3.3 streams a 12-token reply
    events = stream(client, LLAMA33, user("hi emulate:tokens=12"))
    # Then tokens arrive one per event with padding, plus padding-only events, usage, [DONE]
    assert events[-1] == "[DONE]"
    assert events[-2] == {"response": "", "usage": {"prompt_tokens": 4, "completion_tokens": 12, "total_tokens": 16}}
    token_events = [e for e in events[:-2] if e.get("response")]
    assert len(token_events) == 12
    assert all(isinstance(e["p"], str) and e["p"] for e in token_events)
    assert any(set(e) == {"p"} for e in events[:-1])
    assert token_events[0]["response"] == "This"
    assert token_events[1]["response"] == " is"
    non_stream = result_of(client, LLAMA33, user("hi emulate:tokens=12"))["response"]
    assert native_text(events) == non_stream


# --- Text generation: OpenAI dialect ---------------------------------------------------------------


@pytest.mark.parametrize("model", [GLM, QWEN3, "@cf/google/gemma-4-26b-a4b-it", "@cf/moonshotai/kimi-k2.6"])
def test_openai_dialect_non_stream_shape(client: TestClient, model: str) -> None:
    result = result_of(client, model, user("Hello there"))
    assert result["object"] == "chat.completion"
    assert result["id"].startswith("chatcmpl-")
    assert result["created"] == int(NOW)
    assert result["model"] == model
    [choice] = result["choices"]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"].startswith(OPENING)
    assert choice["message"]["reasoning_content"] is None
    assert choice["message"]["tool_calls"] == []
    assert result["usage"] == {
        "prompt_tokens": 5,
        "completion_tokens": 24,
        "total_tokens": 29,
        "prompt_tokens_details": {"cached_tokens": 0},
    }


def test_openai_dialect_stream_shape(client: TestClient) -> None:
    # When glm streams a 5-token reply
    events = stream(client, GLM, user("hi emulate:tokens=5"))
    chunks = [e for e in events if isinstance(e, dict) and e.get("object") == "chat.completion.chunk"]
    # Then role chunk, content deltas, finish chunk, usage chunk, native usage event, [DONE]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert [c["choices"][0]["delta"]["content"] for c in chunks[1:6]] == ["This", " is", " the", " offline", " Workers"]
    assert chunks[6]["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}
    usage = {
        "prompt_tokens": 4,  # "hi" + 3 per message; directive words are not counted
        "completion_tokens": 5,
        "total_tokens": 9,
        "prompt_tokens_details": {"cached_tokens": 0},
    }
    assert chunks[7]["choices"] == []
    assert chunks[7]["usage"] == usage
    assert events[-2] == {"response": "", "usage": usage}
    assert events[-1] == "[DONE]"
    assert len({c["id"] for c in chunks}) == 1
    assert all(c["created"] == int(NOW) and c["model"] == GLM for c in chunks)


# --- max_tokens --------------------------------------------------------------------------------------


def test_native_reply_is_cut_at_max_tokens(client: TestClient) -> None:
    result = result_of(client, LLAMA33, user("hi", max_tokens=5))
    assert result["response"] == "This is the offline Workers"
    assert result["usage"]["completion_tokens"] == 5


def test_native_default_max_tokens_is_the_schema_default(client: TestClient) -> None:
    result = result_of(client, LLAMA33, user("hi emulate:tokens=300"))
    assert result["usage"]["completion_tokens"] == 256


@pytest.mark.parametrize("key", ["max_tokens", "max_completion_tokens"])
def test_openai_dialect_reports_length_when_cut(client: TestClient, key: str) -> None:
    result = result_of(client, GLM, user("hi", **{key: 3}))
    assert result["choices"][0]["message"]["content"] == "This is the"
    assert result["choices"][0]["finish_reason"] == "length"
    assert result["usage"]["completion_tokens"] == 3


def test_openai_stream_reports_length_when_cut(client: TestClient) -> None:
    events = stream(client, QWEN3, user("hi", max_tokens=2))
    assert openai_content(events) == "This is"
    finish = [e for e in events if isinstance(e, dict) and e.get("choices") and e["choices"][0]["finish_reason"]]
    assert finish[0]["choices"][0]["finish_reason"] == "length"


# --- Directives: text --------------------------------------------------------------------------------


def test_echo_returns_the_user_text_without_directives(client: TestClient) -> None:
    # Given a user message with an echo directive and irregular whitespace
    body = {"messages": [{"role": "user", "content": "Say   emulate:echo exactly\nthis, please"}]}
    # Then the reply is the text without the directive, whitespace normalised
    result = result_of(client, LLAMA33, body)
    assert result["response"] == "Say exactly this, please"
    assert result["usage"]["completion_tokens"] == 4


def test_echo_reads_text_parts_of_the_last_user_message(client: TestClient) -> None:
    body = {
        "messages": [
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {
                "role": "user",
                "content": [{"type": "text", "text": "second emulate:echo"}, {"type": "text", "text": "part"}],
            },
        ]
    }
    result = result_of(client, GLM, body)
    assert result["choices"][0]["message"]["content"] == "second part"


def test_tokens_directive_sets_the_reply_length(client: TestClient) -> None:
    result = result_of(client, LLAMA33, {"prompt": "hi emulate:tokens=40"})
    assert len(result["response"].split()) == 40
    assert result["usage"]["completion_tokens"] == 40
    assert result_of(client, LLAMA33, {"prompt": "emulate:tokens=0"})["response"] == ""


def test_a_tool_message_last_gets_the_tool_result_reply(client: TestClient) -> None:
    # Given a tool loop whose last message is the tool's output
    body = {
        "messages": [
            {"role": "user", "content": "Weather? emulate:tool=get_weather"},
            {"role": "assistant", "content": "", "tool_calls": []},
            {"role": "tool", "tool_call_id": "abc123def", "content": "Sunny,   21 C " + "x" * 300},
        ],
        "tools": OPENAI_TOOLS,
    }
    # Then the model reports the result instead of calling the tool again
    result = result_of(client, LLAMA33, body)
    assert result["tool_calls"] == []
    assert result["response"] == "The tool returned: " + ("Sunny, 21 C " + "x" * 300)[:200]


# --- Tool calls ----------------------------------------------------------------------------------


@pytest.mark.parametrize("tools", [OPENAI_TOOLS, LEGACY_TOOLS])
def test_native_flat_tool_call(client: TestClient, tools: list[dict[str, Any]]) -> None:
    result = result_of(client, LLAMA33, user("Weather? emulate:tool=get_weather", tools=tools))
    assert result["response"] == ""
    assert result["tool_calls"] == [{"name": "get_weather", "arguments": {"city": "example", "days": 1}}]
    assert result["usage"]["completion_tokens"] > 0


def test_args_directive_overrides_the_first_call(client: TestClient) -> None:
    text = 'Weather? emulate:tool=get_weather emulate:args={"city":"Paris"}'
    result = result_of(client, LLAMA33, user(text, tools=OPENAI_TOOLS))
    assert result["tool_calls"] == [{"name": "get_weather", "arguments": {"city": "Paris"}}]


# mistral-small's schema takes tools but the catalogue gives it no function calling: scout only.
@pytest.mark.parametrize("model", [SCOUT])
def test_native_nested_tool_call(client: TestClient, model: str) -> None:
    result = result_of(client, model, user("Weather? emulate:tool=get_weather", tools=OPENAI_TOOLS))
    [call] = result["tool_calls"]
    assert call["type"] == "function"
    assert len(call["id"]) == 9
    assert call["id"].isalnum()
    assert call["function"] == {"name": "get_weather", "arguments": {"city": "example", "days": 1}}


def test_native_flat_tool_call_streams_whole(client: TestClient) -> None:
    events = stream(client, LLAMA33, user("emulate:tool=get_weather", tools=OPENAI_TOOLS))
    calls = [e for e in events if isinstance(e, dict) and e.get("tool_calls")]
    assert calls == [
        {"response": "", "tool_calls": [{"name": "get_weather", "arguments": {"city": "example", "days": 1}}]}
    ]
    assert events[-2]["usage"]["completion_tokens"] > 0
    assert events[-1] == "[DONE]"


def test_nested_tool_call_streams_incrementally(client: TestClient) -> None:
    # When llama-4-scout streams two parallel tool calls
    events = stream(client, SCOUT, user("emulate:tool=get_weather,get_time", tools=OPENAI_TOOLS))
    deltas = [d for e in events if isinstance(e, dict) for d in e.get("tool_calls") or []]
    # Then each call opens with id/name, continues by index, and a null finaliser follows
    rebuilt: dict[int, dict[str, Any]] = {}
    for delta in deltas:
        if delta.get("id") is None and "id" in delta:
            assert delta["function"] == {"name": None, "arguments": None}
            continue
        entry = rebuilt.setdefault(delta["index"], {"id": delta.get("id"), "name": None, "arguments": ""})
        entry["name"] = delta["function"].get("name") or entry["name"]
        entry["arguments"] += delta["function"]["arguments"]
    assert [rebuilt[i]["name"] for i in sorted(rebuilt)] == ["get_weather", "get_time"]
    assert json.loads(rebuilt[0]["arguments"]) == {"city": "example", "days": 1}
    assert json.loads(rebuilt[1]["arguments"]) == {"zone": "example"}
    assert all(len(entry["id"]) == 9 for entry in rebuilt.values())


def test_openai_dialect_tool_call(client: TestClient) -> None:
    result = result_of(client, GLM, user("emulate:tool=get_weather emulate:tool=get_time", tools=OPENAI_TOOLS))
    [choice] = result["choices"]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    first, second = choice["message"]["tool_calls"]
    assert first["id"].startswith("chatcmpl-tool-")
    assert first["type"] == "function"
    assert first["function"]["name"] == "get_weather"
    assert json.loads(first["function"]["arguments"]) == {"city": "example", "days": 1}
    assert second["function"]["name"] == "get_time"


def test_openai_dialect_tool_call_stream(client: TestClient) -> None:
    text = 'emulate:tool=get_weather emulate:args={"city":"Paris","days":3}'
    events = stream(client, GLM, user(text, tools=OPENAI_TOOLS))
    chunks = [e for e in events if isinstance(e, dict) and e.get("choices")]
    deltas = [d for c in chunks for d in c["choices"][0]["delta"].get("tool_calls") or []]
    assert deltas[0]["id"].startswith("chatcmpl-tool-")
    assert deltas[0]["function"] == {"name": "get_weather", "arguments": ""}
    assert len(deltas) > 2
    assert json.loads("".join(d["function"]["arguments"] for d in deltas)) == {"city": "Paris", "days": 3}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_tool_directive_without_a_matching_tool_is_ignored(client: TestClient) -> None:
    result = result_of(client, LLAMA33, user("emulate:tool=launch_rocket", tools=OPENAI_TOOLS))
    assert result["tool_calls"] == []
    assert result["response"].startswith(OPENING)


# --- JSON mode -----------------------------------------------------------------------------------

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 18},
        "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "minItems": 2},
        "address": {"$ref": "#/$defs/address"},
        "nickname": {"anyOf": [{"type": "null"}, {"type": "string"}]},
    },
    "required": ["name", "age"],
    "additionalProperties": False,
    "$defs": {"address": {"type": "object", "properties": {"zip": {"type": "string", "format": "date"}}}},
}


def test_native_json_mode_returns_an_object_that_satisfies_the_bare_schema(client: TestClient) -> None:
    body = user("Who?", response_format={"type": "json_schema", "json_schema": PERSON})
    response = result_of(client, LLAMA33, body)["response"]
    assert isinstance(response, dict)
    jsonschema.validate(response, PERSON)


def test_openai_json_mode_returns_a_string_that_satisfies_the_envelope_schema(client: TestClient) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON, "strict": True}}
    content = result_of(client, GLM, user("Who?", response_format=fmt))["choices"][0]["message"]["content"]
    assert isinstance(content, str)
    jsonschema.validate(json.loads(content), PERSON)


@pytest.mark.parametrize(
    ("model", "body"),
    [(LLAMA33, user("hi", response_format={"type": "json_object"})), (LLAMA33, user("hi emulate:json"))],
)
def test_json_mode_without_a_schema_answers_a_default_object(client: TestClient, model: str, body: Any) -> None:
    assert result_of(client, model, body)["response"] == {"answer": "example"}


def test_openai_json_mode_streams(client: TestClient) -> None:
    events = stream(client, QWEN3, user("hi emulate:json"))
    assert json.loads(openai_content(events)) == {"answer": "example"}


def test_native_json_mode_refuses_to_stream(client: TestClient) -> None:
    body = user("hi", response_format={"type": "json_object"}, stream=True)
    response = run(client, LLAMA33, body)
    status, code, message = error_of(response)
    assert (status, code) == (400, 5006)
    assert "JSON mode" in message


def test_json_synthesis_rules() -> None:
    schema = {
        "type": "object",
        "properties": {
            "s": {"type": "string"},
            "e": {"enum": ["x", "y"]},
            "c": {"const": 3},
            "i": {"type": "integer", "maximum": 0},
            "n": {"type": "number"},
            "b": {"type": "boolean"},
            "z": {"type": "null"},
            "o": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
            "a": {"type": "array", "items": {"$ref": "#/definitions/item"}},
            "m": {"allOf": [{"properties": {"p": {"type": "string"}}}, {"properties": {"q": {"type": "boolean"}}}]},
            "t": {"type": ["null", "string"], "minLength": 10},
        },
        "definitions": {"item": {"type": "object", "properties": {"k": {"type": "string", "format": "email"}}}},
    }
    value = synthesise(schema)
    assert value == {
        "s": "example",
        "e": "x",
        "c": 3,
        "i": 0,
        "n": 1.5,
        "b": True,
        "z": None,
        "o": 1,
        "a": [{"k": "user@example.com"}],
        "m": {"p": "example", "q": True},
        "t": "examplexxx",
    }
    jsonschema.validate(value, schema)
    assert synthesise(None) == {"answer": "example"}
    assert synthesise({"type": "object"}) == {"answer": "example"}


# --- Reasoning -----------------------------------------------------------------------------------


def test_reasoning_comes_before_the_content(client: TestClient) -> None:
    message = result_of(client, GLM, user("hi emulate:reasoning"))["choices"][0]["message"]
    assert message["reasoning_content"] == REASONING
    assert message["content"].startswith(OPENING)
    events = stream(client, GLM, user("hi emulate:reasoning emulate:tokens=2"))
    assert openai_content(events, "reasoning_content") == REASONING
    assert openai_content(events) == "This is"
    deltas = [e["choices"][0]["delta"] for e in events if isinstance(e, dict) and e.get("choices")]
    kinds = [next(iter(delta)) for delta in deltas if delta]
    assert kinds.index("reasoning_content") < kinds.index("content")


def test_reasoning_directive_is_ignored_by_native_models(client: TestClient) -> None:
    assert set(result_of(client, LLAMA33, user("hi emulate:reasoning"))) == {"response", "tool_calls", "usage"}


# --- Failure directives --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (3040, 429),
        (3036, 429),
        (5035, 403),
        (5016, 403),
        (3007, 408),
        (3006, 413),
        (8001, 400),
        (3043, 500),
        (4242, 400),
    ],
)
def test_error_directive_uses_the_contract_status(client: TestClient, code: int, status: int) -> None:
    response = run(client, LLAMA33, user(f"hi emulate:error={code}"))
    assert error_of(response)[:2] == (status, code)
    assert response.json()["result"] is None
    assert response.headers.get("retry-after") == ("1" if code == 3040 else None)


def test_error_with_times_fails_only_the_first_identical_requests(client: TestClient) -> None:
    # Given a request that fails twice
    body = user("hi emulate:error=3040 emulate:times=2")
    # When it is sent four times
    statuses = [run(client, LLAMA33, body).status_code for _ in range(4)]
    # Then the first two fail and the rest succeed; a different body has its own counter
    assert statuses == [429, 429, 200, 200]
    assert run(client, LLAMA33, user("other emulate:error=3040 emulate:times=2")).status_code == 429


def test_times_counters_are_per_app() -> None:
    body = {"prompt": "hi emulate:error=3040 emulate:times=1"}
    for _ in range(2):
        with TestClient(create_app(api_token=TOKEN)) as fresh:
            assert run(fresh, LLAMA33, body).status_code == 429


def test_http_directive_answers_a_bare_status(client: TestClient) -> None:
    response = run(client, LLAMA33, user("hi emulate:http=502"))
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "Bad Gateway"
    assert run(client, LLAMA33, user("hi emulate:http=503 emulate:times=1")).status_code == 503
    assert run(client, LLAMA33, user("hi emulate:http=503 emulate:times=1")).status_code == 200


def test_status_directive_overrides_the_error_status(client: TestClient) -> None:
    response = run(client, LLAMA33, user("hi emulate:error=3043 emulate:status=503"))
    assert error_of(response) == (503, 3043, "Internal server error")


def test_error_directive_applies_to_streams_before_any_event(client: TestClient) -> None:
    response = run(client, GLM, user("hi emulate:error=3040", stream=True))
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/json"


# --- Stream shaping directives ------------------------------------------------------------------


@pytest.mark.parametrize("model", [LLAMA33, GLM])
def test_break_after_ends_the_stream_without_usage_or_done(client: TestClient, model: str) -> None:
    events = stream(client, model, user("hi emulate:break_after=3"))
    assert "[DONE]" not in events
    assert not any("usage" in e for e in events)
    text = native_text(events) if model == LLAMA33 else openai_content(events)
    assert text == "This is the"


def test_break_after_longer_than_the_reply_still_truncates(client: TestClient) -> None:
    events = stream(client, LLAMA33, user("emulate:tokens=2 emulate:break_after=50"))
    assert native_text(events) == "This is"
    assert "[DONE]" not in events


def test_break_after_does_not_affect_non_stream_requests(client: TestClient) -> None:
    assert result_of(client, LLAMA33, user("hi emulate:break_after=1"))["usage"]["completion_tokens"] == 24


def test_stream_json_answers_a_stream_request_with_json(client: TestClient) -> None:
    response = run(client, "@cf/openai/gpt-oss-120b", user("hi emulate:stream_json", stream=True))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["result"]["response"].startswith(OPENING)


def test_delay_directives_slow_the_answer(client: TestClient) -> None:
    started = time.monotonic()
    result_of(client, LLAMA33, user("hi emulate:delay_ms=120"))
    assert time.monotonic() - started >= 0.12
    started = time.monotonic()
    stream(client, LLAMA33, user("hi emulate:tokens=4 emulate:token_delay_ms=30"))
    assert time.monotonic() - started >= 0.15  # 4 tokens + tool_calls + usage + [DONE] events, 30 ms apart


# --- Embeddings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "dimension"),
    [
        ("@cf/baai/bge-small-en-v1.5", 384),
        ("@cf/baai/bge-base-en-v1.5", 768),
        ("@cf/baai/bge-large-en-v1.5", 1024),
        ("@cf/baai/bge-m3", 1024),
        ("@cf/qwen/qwen3-embedding-0.6b", 1024),
        ("@cf/google/embeddinggemma-300m", 768),
    ],
)
def test_embedding_dimensions(client: TestClient, model: str, dimension: int) -> None:
    result = result_of(client, model, {"text": ["alpha", "beta", "gamma"]})
    assert result["shape"] == [3, dimension]
    assert len(result["data"]) == 3
    for vector in result["data"]:
        assert len(vector) == dimension
        assert math.isclose(math.sqrt(sum(x * x for x in vector)), 1.0, abs_tol=1e-3)


def test_embeddings_are_deterministic_per_text_and_keep_order(client: TestClient) -> None:
    model = "@cf/baai/bge-base-en-v1.5"
    batch = result_of(client, model, {"text": ["alpha", "beta"]})
    single = result_of(client, model, {"text": "beta"})
    reversed_batch = result_of(client, model, {"text": ["beta", "alpha"]})
    assert batch["pooling"] == "mean"
    assert single["shape"] == [1, 768]
    assert single["data"][0] == batch["data"][1]
    assert reversed_batch["data"] == batch["data"][::-1]
    assert batch["data"][0] != batch["data"][1]


@pytest.mark.parametrize(
    ("model", "limit"), [("@cf/baai/bge-small-en-v1.5", 100), ("@cf/qwen/qwen3-embedding-0.6b", 32)]
)
def test_embedding_batches_are_limited_by_the_schema(client: TestClient, model: str, limit: int) -> None:
    assert result_of(client, model, {"text": [f"t{i}" for i in range(limit)]})["shape"][0] == limit
    assert error_of(run(client, model, {"text": [f"t{i}" for i in range(limit + 1)]}))[:2] == (400, 5006)


def test_qwen3_embedding_embeds_queries_then_documents(client: TestClient) -> None:
    model = "@cf/qwen/qwen3-embedding-0.6b"
    result = result_of(client, model, {"queries": "q", "documents": ["d1", "d2"]})
    assert result["shape"] == [3, 1024]
    assert result["data"][0] == result_of(client, model, {"text": "q"})["data"][0]


def test_bge_m3_scores_contexts_against_a_query(client: TestClient) -> None:
    result = result_of(client, "@cf/baai/bge-m3", {"query": "q", "contexts": [{"text": "a"}, {"text": "b"}]})
    assert sorted(item["id"] for item in result["response"]) == [0, 1]
    scores = [item["score"] for item in result["response"]]
    assert scores == sorted(scores, reverse=True)


def test_embedding_directives(client: TestClient) -> None:
    response = run(client, "@cf/baai/bge-m3", {"text": ["hello emulate:error=3040", "world"]})
    assert error_of(response)[:2] == (429, 3040)
    started = time.monotonic()
    result_of(client, "@cf/baai/bge-m3", {"text": "hello emulate:delay_ms=60"})
    assert time.monotonic() - started >= 0.06


# --- Catalogue -----------------------------------------------------------------------------------


def search(client: TestClient, **params: Any) -> Any:
    response = client.get(f"{BASE}/models/search", params=params, headers=AUTH)
    assert response.status_code == 200
    payload = response.json()
    assert payload["success"] is True
    return payload


def test_catalogue_items_have_the_cloudflare_shape(client: TestClient) -> None:
    payload = search(client, search="llama-3.3")
    [item] = payload["result"]
    assert item["name"] == LLAMA33
    assert item["source"] == 1
    assert item["id"] == "7a143886-c9bb-4a1c-be95-377b1973bc3b"
    assert item["task"]["name"] == "Text Generation"
    assert set(item["task"]) == {"id", "name", "description"}
    assert item["tags"] == []
    assert {"property_id": "context_window", "value": "24000"} in item["properties"]
    assert item["created_at"] == "2024-12-06 17:09:18.338"
    assert payload["result_info"] == {"page": 1, "per_page": 50, "count": 1, "total_count": 1}


def test_catalogue_filters_by_task_and_pages(client: TestClient) -> None:
    everything = search(client, task="Text Generation", per_page=100)["result"]
    assert all(item["task"]["name"] == "Text Generation" for item in everything)
    pages = [search(client, task="Text Generation", per_page=5, page=page) for page in (1, 2, 3)]
    assert [p["result_info"]["count"] for p in pages] == [5, 5, len(everything) - 10]
    assert all(p["result_info"]["total_count"] == len(everything) for p in pages)
    assert [item["name"] for p in pages for item in p["result"]] == [item["name"] for item in everything]
    assert search(client, task="Text Generation", page=99)["result"] == []


def test_catalogue_excludes_deprecated_models(client: TestClient) -> None:
    names = {item["name"] for item in search(client, per_page=100)["result"]}
    assert LLAMA33 in names
    assert "@cf/facebook/bart-large-cnn" not in names
    assert search(client, search="bart-large")["result_info"]["total_count"] == 0


def test_schema_endpoint(client: TestClient) -> None:
    response = client.get(f"{BASE}/models/schema", params={"model": LLAMA33}, headers=AUTH)
    payload = response.json()
    assert payload["success"] is True
    assert payload["errors"] == []
    assert "oneOf" in payload["result"]["input"]
    assert "oneOf" in payload["result"]["output"]
    standin = client.get(f"{BASE}/models/schema", params={"model": GLM}, headers=AUTH).json()["result"]
    assert standin["input"]["anyOf"][1]["additionalProperties"] is False
    assert "choices" in json.dumps(standin["output"])


def test_schema_endpoint_unknown_model(client: TestClient) -> None:
    response = client.get(f"{BASE}/models/schema", params={"model": "@cf/none/such"}, headers=AUTH)
    assert error_of(response) == (400, 5007, "No such model @cf/none/such or task")


# --- Directive parsing ---------------------------------------------------------------------------


def test_directive_parsing() -> None:
    text = 'a emulate:tokens=5 emulate:tool=x,y emulate:tool=z emulate:args={"k":1} emulate:echo emulate:bogus=1 b'
    parsed = parse_directives(text)
    assert parsed.tokens == 5
    assert parsed.tools == ("x", "y", "z")
    assert parsed.args == {"k": 1}
    assert parsed.echo is True
    assert parsed.unknown == ("bogus",)
    assert strip_directives(text) == "a b"
    assert parse_directives("emulate:tokens=lots emulate:args=notjson").tokens is None


# --- Over a real socket ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(api_token=TOKEN) as running:
        yield running


def test_server_serves_json_and_streams_over_loopback(server: EmulatorServer) -> None:
    # Given a requests session against the running emulator
    assert server.base_url == f"http://127.0.0.1:{server.port}/client/v4"
    session = requests.Session()
    session.headers.update(AUTH)
    url = f"{server.base_url}/accounts/acct/ai/run/{LLAMA33}"
    # When a plain request is made
    response = session.post(url, json=user("hi"), timeout=5)
    # Then the envelope arrives
    assert response.json()["result"]["response"].startswith(OPENING)
    # And a stream arrives line by line, events spaced by the token delay
    arrivals: list[tuple[float, bytes]] = []
    body = user("hi emulate:tokens=3 emulate:token_delay_ms=40", stream=True)
    with session.post(url, json=body, stream=True, timeout=5) as streamed:
        assert streamed.headers["content-type"].startswith("text/event-stream")
        arrivals = [(time.monotonic(), line) for line in streamed.iter_lines() if line]
    assert arrivals[-1][1] == b"data: [DONE]"
    assert arrivals[-1][0] - arrivals[0][0] >= 0.15  # not batched: the first event came early
    assert json.loads(arrivals[0][1][len(b"data: ") :])["response"] == "This"


def test_server_keep_alive_requests_are_fast(server: EmulatorServer) -> None:
    # Given one keep-alive session (TCP_NODELAY avoids ~40 ms Nagle/delayed-ACK stalls)
    session = requests.Session()
    session.headers.update(AUTH)
    url = f"{server.base_url}/accounts/acct/ai/run/{LLAMA33}"
    session.post(url, json={"prompt": "warm up"}, timeout=5)
    # When 30 requests run back to back
    timings = []
    for _ in range(30):
        started = time.perf_counter()
        session.post(url, json={"prompt": "hi"}, timeout=5).raise_for_status()
        timings.append(time.perf_counter() - started)
    # Then the typical request takes well under the delayed-ACK stall
    assert sorted(timings)[len(timings) // 2] < 0.02


def test_server_break_after_is_seen_as_eof(server: EmulatorServer) -> None:
    url = f"{server.base_url}/accounts/acct/ai/run/{GLM}"
    body = user("hi emulate:break_after=2", stream=True)
    with requests.post(url, json=body, headers=AUTH, stream=True, timeout=5) as response:
        lines = [line for line in response.iter_lines() if line]
    assert b"data: [DONE]" not in lines
    assert len(lines) == 3  # role chunk + two content chunks


def test_module_entry_point_serves_in_the_foreground() -> None:
    # Given the emulator started as `python -m openai_cf.local.emulator --port 0`
    process = subprocess.Popen(
        [sys.executable, "-m", "openai_cf.local.emulator", "--port", "0", "--api-token", TOKEN],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        base_url = line.strip().rsplit(" ", 1)[-1]
        assert base_url.startswith("http://127.0.0.1:")
        # When it is asked for the catalogue
        response = requests.get(f"{base_url}/accounts/a/ai/models/search", headers=AUTH, timeout=5)
        # Then it answers
        assert response.json()["success"] is True
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
