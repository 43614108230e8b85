"""Chat Completions through the official SDK, against the local stack."""

from __future__ import annotations

import json

import pytest
from openai import OpenAI
from pydantic import BaseModel

USER = "user"


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": USER, "content": text}]


def test_plain_answer_has_openai_shape_and_real_usage(client: OpenAI) -> None:
    # Given a plain question, When asked through the SDK
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=ask("Say hello"))
    # Then the answer looks like OpenAI's: id prefix, one choice, usage from upstream
    assert completion.id.startswith("chatcmpl-")
    assert completion.object == "chat.completion"
    assert completion.model == "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.completion_tokens > 0
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    assert completion._request_id and completion._request_id.startswith("req_")


def test_max_tokens_is_forwarded_and_reported_as_length(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=ask("emulate:tokens=50 long please"), max_tokens=5
    )
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 5


def test_long_answers_are_not_cut_at_the_upstream_default_of_256(client: OpenAI) -> None:
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=ask("emulate:tokens=400"))
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 400


def test_max_completion_tokens_on_chat_completions_family(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4.1-mini", messages=ask("emulate:tokens=30"), max_completion_tokens=7
    )
    assert completion.choices[0].finish_reason == "length"


def test_stop_is_enforced_by_the_bridge(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=ask("emulate:echo alpha beta END gamma"), stop=["END"]
    )
    assert completion.choices[0].message.content == "alpha beta "
    assert completion.choices[0].finish_reason == "stop"


def test_stream_is_incremental_with_role_first_and_finish_last(client: OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=ask("emulate:echo one two three four"), stream=True
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == "one two three four"
    assert len([c for c in chunks if c.choices[0].delta.content]) == 4
    assert len({c.id for c in chunks}) == 1


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-4.1-mini"])
def test_stream_stop_across_chunk_boundaries(client: OpenAI, model: str) -> None:
    # Given a stop sequence that spans two streamed tokens ("be" + "ta")
    stream = client.chat.completions.create(
        model=model, messages=ask("emulate:echo alpha beta gamma"), stop="a be", stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "alph"
    assert chunks[-1].choices[0].finish_reason == "stop"


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-4.1-mini"])
def test_stream_include_usage_adds_one_usage_chunk(client: OpenAI, model: str) -> None:
    stream = client.chat.completions.create(
        model=model, messages=ask("hello"), stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])


def test_stream_helper_accumulates_final_completion(client: OpenAI) -> None:
    with client.chat.completions.stream(
        model="gpt-4o-mini", messages=ask("emulate:echo hi there"), stream_options={"include_usage": True}
    ) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content == "hi there"
    assert final.usage is not None


def test_n_choices(client: OpenAI) -> None:
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=ask("hi"), n=3, seed=7)
    assert [c.index for c in completion.choices] == [0, 1, 2]
    assert len({c.message.content for c in completion.choices}) == 3


def test_n_choices_stream(client: OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(model="gpt-4o-mini", messages=ask("emulate:echo a b"), n=2, stream=True)
    )
    finished = [c.choices[0].index for c in chunks if c.choices[0].finish_reason]
    assert finished == [0, 1]


def test_sampling_values_outside_model_ranges_are_clamped_not_refused(client: OpenAI) -> None:
    # top_p 0, seed 0 and negative penalties are valid for OpenAI but outside llama's ranges
    completion = client.chat.completions.create(
        model="gpt-4o",
        messages=ask("hi"),
        top_p=0,
        seed=0,
        temperature=2,
        frequency_penalty=-2,
        presence_penalty=-1,
    )
    assert completion.choices[0].message.content


def test_content_arrays_are_flattened_for_text_only_models(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
            {
                "role": "user",
                "content": [{"type": "text", "text": "emulate:echo part"}, {"type": "text", "text": "two"}],
            },
        ],
    )
    assert completion.choices[0].message.content == "part two"


def test_developer_role_is_accepted(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "developer", "content": "Be brief."}, *ask("hi")]
    )
    assert completion.choices[0].message.content


class Weather(BaseModel):
    city: str
    temperature: float
    sunny: bool


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4.1-mini"])
def test_parse_with_pydantic_json_schema(client: OpenAI, model: str) -> None:
    completion = client.chat.completions.parse(model=model, messages=ask("Weather in Paris?"), response_format=Weather)
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, Weather)


def test_json_object_mode_streams_valid_json(client: OpenAI) -> None:
    chunks = list(client.chat.completions.create(
        model="gpt-4o", messages=ask("Give JSON"), response_format={"type": "json_object"}, stream=True,
    ))  # fmt: skip
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert isinstance(json.loads(text), dict)
    assert chunks[-1].choices[0].finish_reason == "stop"
