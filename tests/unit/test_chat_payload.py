from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pytest

from openai_cf.errors import InvalidRequestError
from openai_cf.schemas.chat import ChatCompletionCreateParams, ChatCompletionToolParam, FunctionDefinition
from openai_cf.services.chat_payload import PayloadBuilder, add_sampling, short_tool_call_id
from openai_cf.services.image_fetch import ImageFetcher, ImageRef
from openai_cf.workers_ai.catalog import ChatProfile, chat_profile, packaged_models


def profile(name: str) -> ChatProfile:
    found = chat_profile(packaged_models()[name])
    assert found is not None
    return found


LLAMA33 = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"
GLM = "@cf/zai-org/glm-4.7-flash"


def params(**kwargs: Any) -> ChatCompletionCreateParams:
    return ChatCompletionCreateParams.model_validate({"model": "m", **kwargs})


def builder(name: str) -> PayloadBuilder:
    return PayloadBuilder(profile(name), ImageFetcher(resolver=lambda host, port: ["93.184.216.34"]))


def test_profiles_follow_the_schemas() -> None:
    assert profile(LLAMA33).dialect == "native"
    assert not profile(LLAMA33).content_arrays
    assert profile(SCOUT).vision
    assert profile(SCOUT).tool_call_id_pattern == "[a-zA-Z0-9]{9}"
    assert profile(GLM).dialect == "openai"
    assert "stop" in profile(GLM).message_keys
    assert "stop" not in profile(LLAMA33).message_keys


def test_tool_loop_is_normalised_for_strict_models() -> None:
    # Given an OpenAI tool loop with content null and OpenAI-style ids
    p = params(
        messages=[
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "call_abc123def456", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "call_abc123def456", "content": [{"type": "text", "text": "42"}]},
        ]
    )
    # When built for llama-4-scout (which needs 9-character ids)
    messages = builder(SCOUT).messages(p.messages)
    # Then content is "" not null, ids match the pattern and agree between the turns
    assert messages[1]["content"] == ""
    short = messages[1]["tool_calls"][0]["id"]
    assert re.fullmatch("[a-zA-Z0-9]{9}", short)
    assert messages[2] == {"role": "tool", "content": "42", "tool_call_id": short}


def test_short_ids_are_stable() -> None:
    assert short_tool_call_id("call_x") == short_tool_call_id("call_x")
    assert short_tool_call_id("call_x") != short_tool_call_id("call_y")


def test_developer_becomes_system_for_native_models() -> None:
    p = params(messages=[{"role": "developer", "content": "rules"}])
    assert builder(LLAMA33).messages(p.messages) == [{"role": "system", "content": "rules"}]
    assert builder(GLM).messages(p.messages) == [{"role": "developer", "content": "rules"}]


def test_text_parts_are_joined_for_text_only_models() -> None:
    p = params(messages=[{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}])
    assert builder(LLAMA33).messages(p.messages)[0]["content"] == "a\nb"


def test_images_are_refused_by_text_only_models_and_kept_for_vision() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    p = params(messages=[{"role": "user", "content": [{"type": "text", "text": "what?"}, image]}])
    with pytest.raises(InvalidRequestError) as info:
        builder(LLAMA33).messages(p.messages)
    assert info.value.param == "messages[0].content[1]"
    content = builder(SCOUT).messages(p.messages)[0]["content"]
    assert content[1] == {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}


class RecordingFetcher(ImageFetcher):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[ImageRef]] = []

    def fetch_all(self, images: Sequence[ImageRef]) -> list[str]:
        self.calls.append(list(images))
        return [f"data:image/png;base64,{i}" for i in range(len(images))]


def test_the_images_of_all_messages_are_fetched_together_before_building() -> None:
    # Given image parts in two user messages
    def image(url: str) -> dict[str, Any]:
        return {"type": "image_url", "image_url": {"url": url}}

    p = params(
        messages=[
            {"role": "user", "content": [image("https://a.example/1.png"), {"type": "text", "text": "and"}]},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [image("data:image/png;base64,AA"), image("https://b.example/2.png")]},
        ]
    )
    fetcher = RecordingFetcher()
    # When the payload is built
    messages = PayloadBuilder(profile(SCOUT), fetcher).messages(p.messages)
    # Then one call got every part (so caps and the deadline are per request), and each answer kept its place
    assert fetcher.calls == [
        [
            ImageRef("https://a.example/1.png", "messages[0].content[0]"),
            ImageRef("data:image/png;base64,AA", "messages[2].content[0]"),
            ImageRef("https://b.example/2.png", "messages[2].content[1]"),
        ]
    ]
    assert messages[0]["content"][0]["image_url"]["url"] == "data:image/png;base64,0"
    assert [part["image_url"]["url"] for part in messages[2]["content"]] == [
        "data:image/png;base64,1",
        "data:image/png;base64,2",
    ]


def test_a_text_only_model_refuses_images_before_downloading_any() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://a.example/1.png"}}
    p = params(messages=[{"role": "user", "content": [image]}])
    fetcher = RecordingFetcher()
    with pytest.raises(InvalidRequestError):
        PayloadBuilder(profile(LLAMA33), fetcher).messages(p.messages)
    assert fetcher.calls == []


def test_tool_schemas_are_completed_for_classic_models() -> None:
    p = params(
        messages=[{"role": "user", "content": "x"}],
        tools=[
            {
                "type": "function",
                "function": {
                    "name": "f",
                    "strict": True,
                    "parameters": {
                        "type": "object",
                        "properties": {
                            "a": {"type": "string"},
                            "b": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                        },
                    },
                },
            }
        ],
    )
    assert p.tools is not None
    tool = builder(LLAMA33).tools(p.tools, None)[0]["function"]
    assert tool["description"] == "f"
    assert tool["parameters"]["properties"]["a"] == {"type": "string", "description": "a"}
    assert tool["parameters"]["properties"]["b"]["type"] == "integer"
    assert "strict" not in tool
    assert builder(GLM).tools(p.tools, None)[0]["function"]["strict"] is True


def test_named_tool_choice_keeps_only_that_tool() -> None:
    fn = {"type": "function", "function": {"name": "f"}}
    gn = {"type": "function", "function": {"name": "g"}}
    p = params(
        messages=[{"role": "user", "content": "x"}],
        tools=[fn, gn],
        tool_choice={"type": "function", "function": {"name": "g"}},
    )
    assert p.tools is not None
    assert [t["function"]["name"] for t in builder(LLAMA33).tools(p.tools, p.tool_choice)] == ["g"]


def test_json_schema_is_unwrapped_for_classic_models_only() -> None:
    fmt = params(
        messages=[{"role": "user", "content": "x"}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "W", "schema": {"type": "object"}, "strict": True},
        },
    ).response_format
    assert fmt is not None
    assert builder(LLAMA33).response_format(fmt) == {"type": "json_schema", "json_schema": {"type": "object"}}
    assert builder(GLM).response_format(fmt) == {
        "type": "json_schema",
        "json_schema": {"name": "W", "schema": {"type": "object"}, "strict": True},
    }


def test_response_format_on_a_model_without_json_mode_is_refused() -> None:
    fmt = params(messages=[{"role": "user", "content": "x"}], response_format={"type": "json_object"}).response_format
    assert fmt is not None
    with pytest.raises(InvalidRequestError) as info:
        builder("@cf/meta/llama-3.1-8b-instruct-fast").response_format(fmt)
    assert info.value.param == "response_format"


def test_sampling_is_clamped_to_each_models_range() -> None:
    payload: dict[str, Any] = {}
    llama = profile(LLAMA33)
    add_sampling(payload, {"top_p": 0.0, "temperature": 2.0, "frequency_penalty": -2.0}, llama.message_keys, llama)
    assert payload == {"top_p": 0.001, "temperature": 2.0, "frequency_penalty": -2.0}
    scout = profile(SCOUT)
    payload = {}
    add_sampling(payload, {"presence_penalty": -1.0}, scout.message_keys, scout)
    assert payload == {"presence_penalty": 0}


@pytest.mark.parametrize(
    "parameters",
    [
        {"type": "object", "properties": [1]},
        {"type": "object", "properties": {"a": {"anyOf": 5}, "b": {"oneOf": [3, {"type": ["null", "number"]}]}}},
        {"type": "object", "properties": {"a": {"anyOf": [{"type": 7}]}, "b": None}},
    ],
)
def test_completing_tool_schemas_never_raises(parameters: dict[str, Any]) -> None:
    # Given tool schemas of the wrong shape that got past parsing (built without validation)
    function = FunctionDefinition.model_construct(name="f", description=None, parameters=parameters, strict=None)
    tool = ChatCompletionToolParam.model_construct(type="function", function=function)
    # When they are completed for a classic model
    completed = builder(LLAMA33).tools([tool], None)[0]["function"]["parameters"]
    # Then every property gets a type and a description instead of an exception
    assert all(spec["type"] and spec["description"] for spec in completed["properties"].values())


def test_first_non_null_type_is_taken_from_type_lists() -> None:
    p = params(
        messages=[{"role": "user", "content": "x"}],
        tools=[{"type": "function", "function": {"name": "f", "parameters": {
            "type": "object", "properties": {"n": {"anyOf": [{"type": ["null", "integer"]}]}}}}}],
    )  # fmt: skip
    assert p.tools is not None
    assert builder(LLAMA33).tools(p.tools, None)[0]["function"]["parameters"]["properties"]["n"]["type"] == "integer"
