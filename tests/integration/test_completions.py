"""Legacy POST /v1/completions through the SDK."""

from __future__ import annotations

import openai
import pytest
from openai import OpenAI


def test_string_prompt_uses_openai_default_of_16_tokens(client: OpenAI) -> None:
    completion = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="emulate:tokens=40 Once upon a time")
    assert completion.id.startswith("cmpl-")
    assert completion.object == "text_completion"
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 16


def test_list_prompts_times_n(client: OpenAI) -> None:
    completion = client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt=["emulate:echo a", "emulate:echo b"], n=2, max_tokens=50
    )
    assert [c.index for c in completion.choices] == [0, 1, 2, 3]
    assert [c.text for c in completion.choices] == ["a", "a", "b", "b"]


def test_echo_and_stop(client: OpenAI) -> None:
    completion = client.completions.create(
        model="gpt-3.5-turbo-instruct",
        prompt="emulate:echo x y STOP z",
        echo=True,
        stop="STOP",
        max_tokens=50,
    )
    assert completion.choices[0].text == "emulate:echo x y STOP zx y "
    assert completion.choices[0].finish_reason == "stop"


def test_stream_with_usage(client: OpenAI) -> None:
    chunks = list(client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="emulate:echo one two", stream=True, max_tokens=50,
        stream_options={"include_usage": True},
    ))  # fmt: skip
    text = "".join(c.choices[0].text for c in chunks if c.choices)
    assert text == "one two"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].usage is not None
    assert all(c.object == "text_completion" for c in chunks)


def test_token_array_prompt_is_refused(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.completions.create(model="gpt-3.5-turbo-instruct", prompt=[1, 2, 3])
    assert info.value.param == "prompt"


def test_chat_only_model_works_through_completions(client: OpenAI) -> None:
    completion = client.completions.create(model="gpt-4.1-mini", prompt="emulate:echo via messages", max_tokens=20)
    assert completion.choices[0].text == "via messages"
