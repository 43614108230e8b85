"""Property: whatever JSON a client sends to the Assistants API's stored objects, the answer is a
2xx or a 4xx in OpenAI's envelope (never a storage error: deep schemas, huge numbers, odd keys)."""

from __future__ import annotations

from typing import Any

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai import OpenAI

from .conftest import TOKEN
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
