"""Property: whatever JSON a client sends, the answer is a 2xx, or a 4xx in OpenAI's envelope, and
no image URL in it makes the bridge connect to anything but a public address.

Bodies are built from the request models' shapes, with every field sometimes replaced by arbitrary
JSON, so both plausible and absurd requests reach the server. The image fetcher gets a fake
network: a resolver that answers public, private and mixed addresses, and a connector that records
where it was asked to go and refuses (nothing is ever connected to but the loopback emulator).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openai_cf.api.app import create_app
from openai_cf.api.server import BackgroundServer
from openai_cf.services.container import Services, build_services
from openai_cf.services.image_fetch import ImageFetcher

from .conftest import TOKEN, settings_for

AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}

# Everything the fake network may connect to: public addresses only.
PUBLIC = {"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "1.1.1.1", "2606:4700:4700::1111"}
PRIVATE = ["127.0.0.1", "10.0.0.7", "169.254.169.254", "::1", "fd00::1", "::ffff:127.0.0.1", "64:ff9b::a00:1"]

settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


class FakeNetwork:
    """A resolver that answers by host name, and a connector that records and refuses."""

    def __init__(self) -> None:
        self.connected: list[str] = []
        self.lock = threading.Lock()

    def resolve(self, host: str, port: int) -> list[str]:
        digest = hashlib.sha256(host.encode()).digest()[0]
        if digest % 4 == 0:
            raise socket.gaierror("no such host")
        if digest % 4 == 1:
            return ["93.184.216.34"]
        if digest % 4 == 2:
            return [PRIVATE[digest % len(PRIVATE)]]
        return ["2606:2800:220:1:248:1893:25c8:1946", PRIVATE[digest % len(PRIVATE)]]

    def connect(self, ip: str, port: int, timeout: float) -> socket.socket:
        with self.lock:
            self.connected.append(ip)
        raise ConnectionRefusedError("the fake network connects nowhere")


NETWORK = FakeNetwork()


def _with_fake_network(settings_: Any) -> Services:
    services = build_services(settings_)
    chat = services.chat
    chat.images = ImageFetcher(chat.images.limits, resolver=NETWORK.resolve, connect=NETWORK.connect)
    return services


@pytest.fixture(scope="module")
def api_url(emulator: BackgroundServer) -> Iterator[str]:
    # Private image targets refused, as deployed; small caps so that absurd requests stay cheap.
    config = settings_for(emulator, image_fetch_allow_private=False, image_fetch_timeout=2.0)
    with BackgroundServer(create_app(settings=lambda: config, build=_with_fake_network)) as server:
        yield f"{server.url}/v1"


# -- strategies ---------------------------------------------------------------------------------
# Bodies are plausible (most reach the services, the upstream and the image fetcher), and then
# perhaps mutated: a field replaced by arbitrary JSON, removed, or an unknown one added.
leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    # Unpaired surrogates (JSON escapes, not text) and nesting past the parser's limit.
    | st.sampled_from(["x\ud800", "\udfff"])
    | st.integers(60, 70).map(lambda depth: json.loads("[" * depth + "]" * depth))
)
anything = st.recursive(
    leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
hosts = st.sampled_from(
    ["images.example", "cdn.example.org", "a.b", "localhost", "metadata.google.internal"]
) | st.from_regex(r"[a-z0-9.-]{1,20}", fullmatch=True)
literals = st.sampled_from(
    [*PRIVATE[:3], "[::1]", "[::ffff:127.0.0.1]", "[64:ff9b::a00:1]", "[2002:7f00:1::]", "1.1.1.1",
     "[2606:4700:4700::1111]", "0.0.0.0", "2130706433", "0x7f.1", "127.1"]
)  # fmt: skip
image_urls = st.one_of(
    st.builds(
        lambda h, p, path: f"http://{h}:{p}/{path}", hosts | literals, st.integers(0, 70000), st.text(max_size=8)
    ),
    st.builds(lambda h: f"https://{h}/x.png", hosts | literals),
    st.sampled_from(
        [
            "http://127.0.0.1:8080\\@1.1.1.1/x.png",
            "http://1.1.1.1@127.0.0.1/",
            "http://%31%32%37.0.0.1/",
            "http://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/",  # full-width "localhost"
            "file:///etc/passwd",
            "gopher://127.0.0.1:6379/_",
            "data:image/png;base64,iVBORw0KGgo=",
        ]
    ),
    st.text(max_size=30),
)
words = st.text(st.characters(codec="utf-8"), max_size=30)
text_part = st.fixed_dictionaries({"type": st.just("text"), "text": words})
image_part = st.fixed_dictionaries(
    {"type": st.just("image_url"), "image_url": st.fixed_dictionaries({"url": image_urls})}
)
tool_call = st.fixed_dictionaries(
    {"id": st.text(max_size=12), "type": st.just("function"),
     "function": st.fixed_dictionaries({"name": st.from_regex(r"[a-z_]{1,8}", fullmatch=True),
                                        "arguments": st.text(max_size=20)})}
)  # fmt: skip
message = st.one_of(
    st.fixed_dictionaries({"role": st.sampled_from(["system", "developer"]), "content": words}),
    st.fixed_dictionaries(
        {"role": st.just("user"), "content": words | st.lists(text_part | image_part, min_size=1, max_size=4)}
    ),
    st.fixed_dictionaries(
        {"role": st.just("assistant")},
        optional={"content": words | st.none(), "tool_calls": st.lists(tool_call, min_size=1, max_size=2)},
    ),
    st.fixed_dictionaries({"role": st.just("tool"), "content": words, "tool_call_id": st.text(max_size=10)}),
)
json_schema = st.recursive(
    st.fixed_dictionaries({"type": st.sampled_from(["string", "number", "integer", "boolean"])}),
    lambda inner: (
        st.fixed_dictionaries(
            {"type": st.just("object"), "properties": st.dictionaries(st.text(max_size=5), inner, max_size=3)},
            optional={"required": st.lists(st.text(max_size=5), max_size=2)},
        )
        | st.fixed_dictionaries({"type": st.just("array"), "items": inner})
        | st.fixed_dictionaries({"anyOf": st.lists(inner, min_size=1, max_size=3)})
    ),
    max_leaves=6,
)
tool = st.fixed_dictionaries(
    {"type": st.just("function"),
     "function": st.fixed_dictionaries({"name": st.from_regex(r"[a-z_]{1,8}", fullmatch=True)},
                                       optional={"description": words, "parameters": json_schema,
                                                 "strict": st.booleans()})}
)  # fmt: skip
chat_models = st.sampled_from(
    ["gpt-4o-mini", "gpt-4o", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "@cf/meta/llama-3.1-8b-instruct-fast",
     "@cf/qwen/qwen3-30b-a3b-fp8", "text-embedding-3-small", "@cf/nobody/nothing", "@cf/../x", "nope"]
)  # fmt: skip
common = {
    "temperature": st.floats(0, 2),
    "top_p": st.floats(0, 1),
    "n": st.integers(1, 3),
    "max_tokens": st.integers(1, 40),
    "seed": st.integers(-(2**63), 2**63 - 1),
    "stop": words | st.lists(st.text(max_size=5), max_size=4),
    "stream": st.booleans(),
    "stream_options": st.fixed_dictionaries({"include_usage": st.booleans()}),
    "user": st.text(max_size=10),
    "frequency_penalty": st.floats(-2, 2),
    "presence_penalty": st.floats(-2, 2),
}
response_format = st.fixed_dictionaries({"type": st.sampled_from(["text", "json_object"])}) | st.fixed_dictionaries(
    {"type": st.just("json_schema"),
     "json_schema": st.fixed_dictionaries({"name": st.from_regex(r"[a-z]{1,8}", fullmatch=True),
                                           "schema": json_schema})}
)  # fmt: skip
chat_bodies = st.fixed_dictionaries(
    {"model": chat_models, "messages": st.lists(message, min_size=1, max_size=4)},
    optional={
        **common,
        "tools": st.lists(tool, min_size=1, max_size=3),
        "tool_choice": st.sampled_from(["none", "auto", "required"]),
        "response_format": response_format,
        "prompt_cache_key": st.text(max_size=20),
        "metadata": st.dictionaries(st.text(max_size=64), st.text(max_size=10), max_size=16),
        "max_completion_tokens": st.integers(1, 40),
    },
)
completion_bodies = st.fixed_dictionaries(
    {"model": chat_models, "prompt": words | st.lists(words, min_size=1, max_size=4)},
    optional={**common, "echo": st.booleans()},
)
embedding_bodies = st.fixed_dictionaries(
    {"model": st.sampled_from(["text-embedding-3-small", "text-embedding-3-large", "@cf/baai/bge-m3", "gpt-4o"]),
     "input": words | st.lists(words, min_size=1, max_size=5)},
    optional={"encoding_format": st.sampled_from(["float", "base64"]), "dimensions": st.integers(1, 2000)},
)  # fmt: skip


def mutated(bodies: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A plausible body, or one with a field replaced by arbitrary JSON, removed, or added."""

    @st.composite
    def mutate(draw: st.DrawFn) -> dict[str, Any]:
        body = dict(draw(bodies))
        key = draw(st.sampled_from(sorted(body)) | st.text(max_size=10))
        if draw(st.booleans()):
            body[key] = draw(anything)
        else:
            body.pop(key, None)
        return body

    return st.one_of(bodies, mutate())


# -- the property -------------------------------------------------------------------------------
def assert_sound(response: requests.Response) -> None:
    assert response.status_code < 500 and response.status_code not in (301, 302, 307, 308), response.text[:500]
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/json"), response.text[:500]
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert error["message"]
    elif response.headers["content-type"].startswith("text/event-stream"):
        # A 200 stream must not turn into a server error after its first byte either.
        assert '"type":"server_error"' not in response.text, response.text[-500:]
        assert response.text.rstrip().endswith("data: [DONE]") or '"error"' in response.text


def send(url: str, body: Any) -> None:
    response = requests.post(url, data=json.dumps(body), headers=AUTH, timeout=30)
    assert_sound(response)
    assert set(NETWORK.connected) <= PUBLIC, NETWORK.connected


FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@FUZZ
@given(body=mutated(chat_bodies))
def test_chat_completions_answer_soundly(api_url: str, body: dict[str, Any]) -> None:
    send(f"{api_url}/chat/completions", body)


@FUZZ
@given(body=mutated(completion_bodies))
def test_completions_answer_soundly(api_url: str, body: dict[str, Any]) -> None:
    send(f"{api_url}/completions", body)


@FUZZ
@given(body=mutated(embedding_bodies))
def test_embeddings_answer_soundly(api_url: str, body: dict[str, Any]) -> None:
    send(f"{api_url}/embeddings", body)


@settings(max_examples=100, deadline=None)
@given(raw=st.binary(max_size=200) | anything.map(lambda value: json.dumps(value).encode()))
def test_any_bytes_are_a_sound_answer(api_url: str, raw: bytes) -> None:
    for path in ("/chat/completions", "/completions", "/embeddings"):
        assert_sound(requests.post(f"{api_url}{path}", data=raw, headers=AUTH, timeout=30))


def test_the_fake_network_was_exercised(api_url: str) -> None:
    # Given a public image host the fake resolver answers, the connector is asked (and refuses)
    body = {
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://1.1.1.1/x.png"}}]}
        ],
    }
    response = requests.post(f"{api_url}/chat/completions", json=body, headers=AUTH, timeout=30)
    assert response.status_code == 400
    assert "1.1.1.1" in NETWORK.connected
