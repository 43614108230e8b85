"""Tool calls: out, streamed as deltas, and multi-turn loops on strict models."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openai import OpenAI

WEATHER_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather",
        "parameters": {
            "type": "object",
            # No per-property descriptions: classic Workers AI schemas would refuse this verbatim.
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
            "required": ["city"],
        },
    },
}

# llama-3.3 (flat native calls), llama-4-scout (nested, 9-char ids), glm (OpenAI dialect)
MODELS = ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini"]


@pytest.mark.parametrize("model", MODELS)
def test_tool_call_comes_back_in_openai_shape(client: OpenAI, model: str) -> None:
    completion = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": 'emulate:tool=get_weather emulate:args={"city":"Paris"}'}],
        tools=[WEATHER_TOOL],
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert choice.message.tool_calls is not None
    call = choice.message.tool_calls[0]
    assert call.id.startswith("call_")
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}


@pytest.mark.parametrize("model", MODELS)
def test_tool_call_streams_as_deltas_the_helper_reassembles(client: OpenAI, model: str) -> None:
    with client.chat.completions.stream(
        model=model,
        messages=[{"role": "user", "content": 'emulate:tool=get_weather emulate:args={"city":"Paris"}'}],
        tools=[WEATHER_TOOL],
    ) as stream:
        chunks = [event.chunk for event in stream if event.type == "chunk"]
        final = stream.get_final_completion()
    first_tool_delta = next(c for c in chunks if c.choices and c.choices[0].delta.tool_calls)
    first = first_tool_delta.choices[0].delta.tool_calls[0]  # type: ignore[index]
    assert first.id and first.id.startswith("call_")
    assert first.function is not None
    assert first.function.name == "get_weather"
    assert first.function.arguments == ""
    assert final.choices[0].finish_reason == "tool_calls"
    calls = final.choices[0].message.tool_calls
    assert calls is not None
    assert json.loads(calls[0].function.arguments) == {"city": "Paris"}


def test_parallel_tool_calls(client: OpenAI) -> None:
    other = {
        "type": "function",
        "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
    }
    completion = client.chat.completions.create(
        model="gpt-4.1-mini",
        messages=[{"role": "user", "content": "emulate:tool=get_weather,get_time"}],
        tools=[WEATHER_TOOL, other],
    )
    names = [c.function.name for c in completion.choices[0].message.tool_calls or []]
    assert names == ["get_weather", "get_time"]


@pytest.mark.parametrize("model", MODELS)
def test_multi_turn_tool_loop(client: OpenAI, model: str) -> None:
    # Given the first turn's tool call
    messages: list[Any] = [{"role": "user", "content": "emulate:tool=get_weather Weather in Paris?"}]
    first = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL])
    call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
    # When the app sends back the assistant turn (content null) and the tool result
    messages += [
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": "18 degrees and sunny"},
    ]
    second = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL])
    # Then the strict model accepts the history and answers from the tool result
    assert second.choices[0].finish_reason == "stop"
    assert "18 degrees and sunny" in (second.choices[0].message.content or "")


def test_tool_choice_none_sends_no_tools(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "emulate:tool=get_weather hi"}],
        tools=[WEATHER_TOOL],
        tool_choice="none",
    )
    assert completion.choices[0].message.tool_calls is None
    assert completion.choices[0].finish_reason == "stop"


def test_tools_on_a_model_without_function_calling_is_a_clear_400(client: OpenAI) -> None:
    import openai

    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model="@cf/meta/llama-guard-3-8b",
            messages=[{"role": "user", "content": "hi"}],
            tools=[WEATHER_TOOL],
        )
    assert info.value.param == "tools"


def test_model_whose_schema_lists_tools_but_lacks_function_calling_refuses_them(client: OpenAI) -> None:
    import openai

    # llama-3.1-8b-fast's schema has `tools`, but the catalogue says it has no function calling
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model="gpt-4.1-nano", messages=[{"role": "user", "content": "hi"}], tools=[WEATHER_TOOL]
        )
    assert info.value.code == "tools_not_supported"
