"""Property: whatever JSON a client sends to the Assistants API (stored objects and runs), the answer
is a 2xx or a 4xx in OpenAI's envelope (never a storage error: deep schemas, huge numbers, odd keys)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai import OpenAI

from .conftest import TOKEN
from .test_assistants import WEATHER
from .test_fuzz import anything, assert_sound, json_schema, mutated, words

AUTH = {"Authorization": f"Bearer {TOKEN}", "OpenAI-Beta": "assistants=v2"}
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)

metadata = st.dictionaries(st.text(max_size=70), st.text(max_size=20), max_size=17)
tool = st.fixed_dictionaries(
    {"type": st.sampled_from(["function", "function", "file_search", "code_interpreter"]),
     "function": st.fixed_dictionaries({"name": st.from_regex(r"[a-z_]{1,8}", fullmatch=True)},
                                       optional={"parameters": json_schema | anything})}
)  # fmt: skip
assistant_bodies = st.fixed_dictionaries(
    {"model": st.sampled_from(["gpt-4o-mini", "gpt-4.1", "text-embedding-3-small", "nope", "@cf/x/../y"])},
    optional={
        "name": words, "instructions": words, "tools": st.lists(tool, max_size=3), "metadata": metadata,
        "temperature": st.floats(-1, 3), "top_p": st.floats(-1, 2),
        "response_format": st.sampled_from(["auto", "none"]) | st.fixed_dictionaries(
            {"type": st.just("json_schema"),
             "json_schema": st.fixed_dictionaries({"name": st.just("r"), "schema": json_schema | anything})}),
        "tool_resources": st.fixed_dictionaries({}, optional={"code_interpreter": st.fixed_dictionaries(
            {"file_ids": st.lists(st.text(max_size=5), max_size=2)})}),
    },
)  # fmt: skip
part = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "text": words}),
    st.fixed_dictionaries({"type": st.just("image_url"), "image_url": st.fixed_dictionaries({"url": words})}),
    st.fixed_dictionaries({"type": st.just("image_file"), "image_file": st.fixed_dictionaries({"file_id": words})}),
)
message_bodies = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "system"]), "content": words | st.lists(part, max_size=3)},
    optional={"metadata": metadata,
              "attachments": st.lists(st.fixed_dictionaries({"file_id": words, "tools": st.just([])}), max_size=2)},
)  # fmt: skip
# (`mutated` needs a key to pick: every thread body has metadata.)
thread_bodies = st.fixed_dictionaries(
    {"metadata": metadata}, optional={"messages": st.lists(message_bodies, max_size=3)}
)


def post(url: str, body: Any) -> None:
    assert_sound(requests.post(url, json=body, headers=AUTH, timeout=30))


@FUZZ
@given(body=mutated(assistant_bodies))
def test_assistants_answer_soundly(base_url: str, body: dict[str, Any]) -> None:
    post(f"{base_url}/assistants", body)


@FUZZ
@given(body=mutated(thread_bodies))
def test_threads_answer_soundly(base_url: str, body: dict[str, Any]) -> None:
    post(f"{base_url}/threads", body)


@FUZZ
@given(body=mutated(message_bodies), update=mutated(st.fixed_dictionaries({"metadata": metadata})))
def test_messages_answer_soundly(base_url: str, client: OpenAI, body: dict[str, Any], update: dict[str, Any]) -> None:
    thread_id = client.beta.threads.create().id
    post(f"{base_url}/threads/{thread_id}/messages", body)
    message = client.beta.threads.messages.create(thread_id, role="user", content="x")
    post(f"{base_url}/threads/{thread_id}/messages/{message.id}", update)


# -- runs (on a server of their own, so that the runs fuzzing starts keep other tests' executor free)
truncation = st.fixed_dictionaries(
    {"type": st.sampled_from(["auto", "last_messages", "sometimes"])},
    optional={"last_messages": st.integers(-1, 2**70) | st.none()},
)
tool_choice = st.sampled_from(["none", "auto", "required", "always"]) | st.fixed_dictionaries(
    {"type": st.sampled_from(["function", "file_search"])},
    optional={"function": st.fixed_dictionaries({"name": st.sampled_from(["get_weather", "nope"]) | words})},
)
budget = st.integers(-1, 2**70) | st.none()
# (`mutated` needs a key to pick: every body has metadata.)
run_fields = {
    "model": st.sampled_from(["gpt-4o-mini", "nope"]), "instructions": words, "tools": st.lists(tool, max_size=2),
    "temperature": st.floats(-1, 3), "top_p": st.floats(-1, 2), "max_prompt_tokens": budget,
    "max_completion_tokens": budget, "truncation_strategy": truncation, "tool_choice": tool_choice,
    "parallel_tool_calls": st.booleans(), "stream": st.booleans(),
    "response_format": st.sampled_from(["auto", "none"]) | st.fixed_dictionaries(
        {"type": st.sampled_from(["text", "json_object"])}),
}  # fmt: skip
run_bodies = st.fixed_dictionaries(
    {"metadata": metadata},
    optional={
        **run_fields,
        "additional_instructions": words,
        "additional_messages": st.lists(message_bodies, max_size=2),
    },
)
thread_and_run_bodies = st.fixed_dictionaries(
    {"metadata": metadata}, optional={**run_fields, "thread": thread_bodies, "tool_resources": st.just({})}
)
outputs = st.fixed_dictionaries(
    {"tool_outputs": st.lists(st.fixed_dictionaries({}, optional={"tool_call_id": words, "output": words}),
                              max_size=3)},
    optional={"stream": st.booleans()},
)  # fmt: skip


@pytest.fixture(scope="module")
def runs_url(sdk_for: Callable[..., OpenAI]) -> str:
    return str(sdk_for().base_url).rstrip("/")


@cache
def assistant_for(url: str) -> str:
    answer = requests.post(f"{url}/assistants", json={"model": "gpt-4o-mini", "tools": [WEATHER]}, headers=AUTH,
                           timeout=30)  # fmt: skip
    return str(answer.json()["id"])


def with_assistant(url: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"assistant_id": assistant_for(url), **body}


@FUZZ
@given(body=mutated(run_bodies))
def test_runs_answer_soundly(runs_url: str, body: dict[str, Any]) -> None:
    thread_id = requests.post(f"{runs_url}/threads", json={}, headers=AUTH, timeout=30).json()["id"]
    post(f"{runs_url}/threads/{thread_id}/runs", with_assistant(runs_url, body))


# Four requests per example, two of them starting runs: fewer examples keep the suite quick.
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
@given(body=mutated(thread_and_run_bodies), update=mutated(st.fixed_dictionaries({"metadata": metadata})),
       tool_outputs=mutated(outputs))  # fmt: skip
def test_thread_runs_and_their_updates_answer_soundly(
    runs_url: str, body: dict[str, Any], update: dict[str, Any], tool_outputs: dict[str, Any]
) -> None:
    post(f"{runs_url}/threads/runs", with_assistant(runs_url, body))
    run = requests.post(f"{runs_url}/threads/runs", json=with_assistant(runs_url, {}), headers=AUTH, timeout=30).json()
    base = f"{runs_url}/threads/{run['thread_id']}/runs/{run['id']}"
    post(base, update)
    post(f"{base}/submit_tool_outputs", tool_outputs)
