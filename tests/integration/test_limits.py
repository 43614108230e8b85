"""Request limits through the official SDK: every refusal is a 400 in OpenAI's envelope naming the
parameter, decided before any upstream call (see the README's "Limits")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import pytest
from openai import OpenAI

HI: list[Any] = [{"role": "user", "content": "emulate:echo hi"}]


def refused(call: Any, **kwargs: Any) -> openai.BadRequestError:
    with pytest.raises(openai.BadRequestError) as info:
        call(**kwargs)
    return info.value


@pytest.mark.parametrize(("stop", "param"), [(["a"] * 5, "stop"), (["a" * 1001], "stop[0]"), ("a" * 1001, "stop")])
def test_chat_stop_is_bounded(client: OpenAI, stop: str | list[str], param: str) -> None:
    # Given more than OpenAI's 4 stop sequences, or one longer than any real stop sequence
    # When a chat completion is requested, streamed or not
    for stream in (False, True):
        error = refused(client.chat.completions.create, model="gpt-4o-mini", messages=HI, stop=stop, stream=stream)
        # Then it is a 400 naming `stop`
        assert error.param == param
        assert error.code == "invalid_value"


def test_chat_accepts_four_stop_sequences(client: OpenAI) -> None:
    # Given OpenAI's maximum of four stop sequences
    completion = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "emulate:echo a b STOP c"}],
        stop=["w", "x", "y", "STOP"],
    )
    # Then they are honoured
    assert completion.choices[0].message.content == "a b "


def test_completions_stop_is_bounded(sdk_for: Callable[..., OpenAI]) -> None:
    # Given 100,000 stop sequences (each was scanned for on every streamed token) in a body we accept
    sdk = sdk_for(max_request_bytes=6 * 1024 * 1024)
    # When a legacy completion is requested
    error = refused(
        sdk.completions.create, model="gpt-3.5-turbo-instruct", prompt="x", stop=["a" * 30] * 100_000, stream=True
    )
    # Then it is refused by name
    assert error.param == "stop"


def test_completions_prompts_times_n_is_bounded(client: OpenAI) -> None:
    # Given 50 prompts with n=128 (a 325-byte body that planned 6,400 upstream generations)
    # When a legacy completion is requested
    error = refused(client.completions.create, model="gpt-3.5-turbo-instruct", prompt=["x"] * 50, n=128)
    # Then it is refused naming `n`, and says why
    assert error.param == "n"
    assert "128" in error.message


def test_completions_prompt_list_is_bounded_before_its_items_are_read(client: OpenAI) -> None:
    # Given 20,000 prompts (which used ~1 GB before the first upstream call)
    error = refused(client.completions.create, model="gpt-3.5-turbo-instruct", prompt=["x"] * 20_000)
    # Then the list is refused by name
    assert error.param == "prompt"


def test_completions_at_the_generation_limit_still_work(client: OpenAI) -> None:
    # Given 4 prompts, n=32: exactly 128 generations
    completion = client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt=["emulate:echo a"] * 4, n=32, max_tokens=2
    )
    # Then every choice is answered
    assert len(completion.choices) == 128


TOOL: Any = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}
CALL: Any = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}


@pytest.mark.parametrize(
    ("arguments", "param"),
    [
        ({"model": "m" * 257}, "model"),
        ({"messages": HI * 10_001}, "messages"),
        ({"tools": [TOOL] * 129}, "tools"),
        ({"messages": [*HI, {"role": "assistant", "tool_calls": [CALL] * 129}]}, "messages[1].tool_calls"),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
        ({"metadata": {"k": "v" * 513}}, "metadata.k"),
        ({"safety_identifier": "s" * 65}, "safety_identifier"),
        ({"prompt_cache_key": "k" * 257}, "prompt_cache_key"),
        ({"user": "u" * 257}, "user"),
        ({"seed": 2**63}, "seed"),
        ({"logit_bias": {"50256": 101}}, "logit_bias.50256"),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"name": "has spaces"}}},
            "response_format.json_schema.name",
        ),
    ],
)
def test_chat_limits_name_the_parameter(client: OpenAI, arguments: dict[str, Any], param: str) -> None:
    # Given one argument past OpenAI's limit (or, where OpenAI states none, ours)
    request = {"model": "gpt-4o-mini", "messages": HI, **arguments}
    # When a chat completion is requested
    error = refused(client.chat.completions.create, **request)
    # Then it is a 400 naming exactly that parameter
    assert error.param == param
    assert error.status_code == 400


def test_chat_at_the_limits_still_works(client: OpenAI) -> None:
    # Given arguments exactly at the limits
    completion = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=HI,
        tools=[TOOL] * 128,
        tool_choice="none",
        metadata={f"k{i}": "v" * 512 for i in range(16)},
        safety_identifier="s" * 64,
        seed=2**63 - 1,
    )
    # Then the request is answered
    assert completion.choices[0].message.content == "hi"


def test_embeddings_input_is_bounded(client: OpenAI) -> None:
    # Given more than OpenAI's 2,048 inputs
    error = refused(client.embeddings.create, model="text-embedding-3-small", input=["x"] * 2049)
    # Then they are refused by name before any is embedded
    assert error.param == "input"


@pytest.mark.parametrize(
    ("parameters", "param"),
    [
        ({"type": "object", "properties": [1]}, "tools[0].function.parameters.properties"),
        ({"type": "object", "properties": {"a": {"anyOf": 5}}}, "tools[0].function.parameters.properties.a.anyOf"),
        ({"type": "object", "required": "a"}, "tools[0].function.parameters.required"),
    ],
)
@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-4.1-mini"])
def test_misshapen_tool_schemas_are_400s_not_500s(
    client: OpenAI, model: str, parameters: dict[str, Any], param: str
) -> None:
    # Given a tool whose JSON Schema has a keyword of the wrong shape (these raised inside the bridge)
    tools: Any = [{"type": "function", "function": {"name": "f", "parameters": parameters}}]
    # When a classic model and a chat-completions model are asked
    error = refused(client.chat.completions.create, model=model, messages=HI, tools=tools)
    # Then it is a 400 naming the key inside the schema
    assert error.param == param


def test_misshapen_response_format_schema_is_a_400(client: OpenAI) -> None:
    # Given a response_format schema whose `properties` is not an object
    response_format: Any = {"type": "json_schema", "json_schema": {"name": "w", "schema": {"properties": "x"}}}
    # When a chat completion is requested
    error = refused(client.chat.completions.create, model="gpt-4o-mini", messages=HI, response_format=response_format)
    # Then it is refused naming the key
    assert error.param == "response_format.json_schema.schema.properties"


@pytest.mark.parametrize("model", ["@cf/../../accounts", "@cf/meta/llama 3", "@cf/meta/" + "a" * 120, "@nope/x"])
def test_malformed_workers_ai_model_names_are_400s(client: OpenAI, model: str) -> None:
    # Given a model name that cannot be a Workers AI model
    # When it is used
    error = refused(client.chat.completions.create, model=model, messages=HI)
    # Then it is a 400 naming `model`, not a 404 after an upstream look-up
    assert error.param == "model"


def test_well_formed_unknown_model_is_still_a_404(client: OpenAI) -> None:
    # Given a well-formed Workers AI name the catalogue does not list
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="@cf/nobody/nothing-1", messages=HI)
    # Then it is OpenAI's model_not_found
    assert info.value.code == "model_not_found"
    assert info.value.param == "model"


@pytest.mark.parametrize("key", ["conversation ☃", "line\nbreak", " leading-space"])
def test_any_prompt_cache_key_within_the_limit_works(client: OpenAI, key: str) -> None:
    # Given a prompt_cache_key that cannot go into an HTTP header as it is (this was a 500)
    # When a chat completion is requested with it
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=HI, prompt_cache_key=key)
    # Then it is answered (the affinity header carries a digest of the key instead)
    assert completion.choices[0].message.content == "hi"


def test_n_copies_of_a_huge_prompt_are_refused(client: OpenAI) -> None:
    # Given a 600 KB prompt: 128 choices would send it upstream 128 times (77 MB)
    big = "word " * 120_000
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": big}], n=128)
    assert refused.value.body["param"] == "n"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as refused:
        client.completions.create(model="gpt-3.5-turbo-instruct", prompt=big, n=128)
    assert refused.value.body["param"] == "n"  # type: ignore[index]
    # While a few copies of it are fine
    reply = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": big}], n=2, max_tokens=3
    )
    assert len(reply.choices) == 2
