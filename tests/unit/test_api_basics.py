from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from openai_cf.api.app import create_app
from openai_cf.api.parsing import param_path
from openai_cf.api.sse import KEEPALIVE, ServerEvent, sse_events
from openai_cf.errors import RateLimitError
from openai_cf.routes import FUNCTIONS, ROUTES, STORAGE_FUNCTIONS, routes_for
from openai_cf.settings import Settings, SettingsError, settings_from_env

CALL = {"id": "c", "type": "function", "function": {"arguments": "{}"}}
DATA = {
    "messages": [{"role": "user"}, {"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [CALL]}],
    "stop": 5,
    "response_format": {"type": "json_schema", "json_schema": {"schema": {}}},
    "tool_choice": "sometimes",
}


@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        (("messages", 0, "user", "content"), "messages[0].content"),
        (("messages", 2, "assistant", "tool_calls", 0, "function", "name"), "messages[2].tool_calls[0].function.name"),
        (("stop", "str"), "stop"),
        (("response_format", "json_schema", "json_schema", "name"), "response_format.json_schema.name"),
        (("tool_choice", "literal['none','auto','required']"), "tool_choice"),
    ],
)
def test_param_path(loc: tuple[Any, ...], expected: str) -> None:
    assert param_path(loc, DATA) == expected


def test_settings_from_env() -> None:
    settings = settings_from_env(
        {"ACCESS_TOKEN": "a, b", "MODEL_ALIASES": '{"x": "@cf/y"}', "CLOUDFLARE_API_BASE_URL": "https://gw/"}
    )
    assert settings.access_tokens == ("a", "b")
    assert settings.model_aliases == {"x": "@cf/y"}
    assert settings.cloudflare_api_base_url == "https://gw"
    assert not settings.has_cloudflare_credentials


def test_image_caps_from_env() -> None:
    defaults = settings_from_env({})
    assert (defaults.image_max_count, defaults.image_fetch_max_bytes) == (8, 10 * 1024 * 1024)
    assert (defaults.image_fetch_max_total_bytes, defaults.image_fetch_timeout) == (20 * 1024 * 1024, 10.0)
    settings = settings_from_env(
        {
            "OPENAI_CF_IMAGE_MAX_COUNT": "2",
            "OPENAI_CF_IMAGE_MAX_BYTES": "1000",
            "OPENAI_CF_IMAGE_MAX_TOTAL_BYTES": "1500",
            "OPENAI_CF_IMAGE_FETCH_TIMEOUT": "2.5",
        }
    )
    assert (settings.image_max_count, settings.image_fetch_max_bytes) == (2, 1000)
    assert (settings.image_fetch_max_total_bytes, settings.image_fetch_timeout) == (1500, 2.5)
    with pytest.raises(SettingsError):
        settings_from_env({"OPENAI_CF_IMAGE_FETCH_TIMEOUT": "0"})


@pytest.mark.parametrize("raw", ["not json", "[1]", '{"a": 1}'])
def test_bad_model_aliases_fail_at_start_up(raw: str) -> None:
    with pytest.raises(SettingsError):
        settings_from_env({"MODEL_ALIASES": raw})


def test_route_table_rows_and_greedy_paths() -> None:
    assert FUNCTIONS == (
        "models", "chat_completions", "completions", "embeddings", "audio", "moderations", "images", "files",
        "uploads", "assistants", "threads", "runs",
    )  # fmt: skip
    # Functions whose routes store something get the table and bucket from CDK.
    assert frozenset({"images", "files", "uploads", "assistants", "threads", "runs"}) == STORAGE_FUNCTIONS
    # Routes match in order: `POST /v1/threads/runs` (create and run) comes before the thread update
    posts = [r.path for r in ROUTES if r.method == "POST"]
    assert posts.index("/v1/threads/runs") < posts.index("/v1/threads/{thread_id}")
    assert all(r.path.startswith("/v1/") for r in ROUTES)
    assert routes_for("models")[1].apigw_path == "/v1/models/{model+}"
    with pytest.raises(ValueError):
        routes_for("nope")


def test_each_function_app_serves_only_its_routes() -> None:
    settings = Settings(access_tokens=("t",))
    client = TestClient(create_app("embeddings", settings=lambda: settings))
    headers = {"Authorization": "Bearer t"}
    assert client.get("/v1/models", headers=headers).status_code == 404
    # Unconfigured upstream: a clear 500 in the envelope, not a crash.
    response = client.post("/v1/embeddings", headers=headers, json={"model": "x", "input": "y"})
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "upstream_not_configured"


def test_auth_uses_every_configured_token_and_bodiless_posts_are_parsed_safely() -> None:
    settings = Settings(access_tokens=("one", "two"))
    client = TestClient(create_app("chat_completions", settings=lambda: settings))
    response = client.post(
        "/v1/chat/completions", headers={"Authorization": "Bearer two", "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "empty" in response.json()["error"]["message"]
    assert client.post("/v1/chat/completions", headers={"Authorization": "Basic two"}).status_code == 401


async def collect(iterator: Any) -> list[bytes]:
    return [chunk async for chunk in iterator]


@pytest.mark.anyio
async def test_sse_writer_sends_keepalives_done_and_in_band_errors() -> None:
    import time

    def slow() -> Any:
        time.sleep(0.05)
        yield {"a": 1}

    out = await collect(sse_events(slow(), keepalive_seconds=0.01))
    assert out[0] == KEEPALIVE
    assert out[-2:] == [b'data: {"a":1}\n\n', b"data: [DONE]\n\n"]

    def failing() -> Any:
        yield {"a": 1}
        raise RateLimitError("slow down")

    out = await collect(sse_events(failing(), keepalive_seconds=5))
    assert json.loads(out[-1][len(b"data: ") :])["error"]["type"] == "rate_limit_error"
    assert b"data: [DONE]\n\n" not in out


@pytest.mark.anyio
async def test_named_events_for_assistants_streams() -> None:
    # Given a service yielding named events, then failing
    def events() -> Any:
        yield ServerEvent("thread.run.created", {"id": "run_1"})
        yield ServerEvent("thread.message.delta", {"id": "msg_1"})

    # Then each event has its name line, and the stream ends as openai-python's event handler expects
    out = await collect(sse_events(events(), keepalive_seconds=5, named=True))
    assert out == [
        b'event: thread.run.created\ndata: {"id":"run_1"}\n\n',
        b'event: thread.message.delta\ndata: {"id":"msg_1"}\n\n',
        b"event: done\ndata: [DONE]\n\n",
    ]

    def failing() -> Any:
        yield ServerEvent("thread.run.created", {"id": "run_1"})
        raise RateLimitError("slow down")

    out = await collect(sse_events(failing(), keepalive_seconds=5, named=True))
    name, data = out[-1].split(b"\n", 1)
    assert name == b"event: error"
    assert json.loads(data[len(b"data: ") :])["error"]["type"] == "rate_limit_error"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_settings_name_the_secrets_and_read_none_of_them() -> None:
    # Given the deployed environment: two secrets' ARNs, and no way to reach AWS
    settings = settings_from_env(
        {"OPENAI_CF_ACCESS_TOKEN_SECRET_ARN": "arn:access", "OPENAI_CF_CLOUDFLARE_SECRET_ARN": "arn:cf",
         "OPENAI_CF_SECRET_TTL_SECONDS": "60", "CLOUDFLARE_ACCOUNT_ID": "acct"}
    )  # fmt: skip
    # Then the settings hold where the secrets are (`openai_cf.credentials` reads them on first use)
    assert (settings.access_token_secret_id, settings.cloudflare_secret_id) == ("arn:access", "arn:cf")
    assert (settings.secret_ttl_seconds, settings.cloudflare_account_id, settings.access_tokens) == (60, "acct", ())
    # And the one secret of earlier deployments stands for both
    legacy = settings_from_env({"OPENAI_CF_SECRET_ARN": "arn:one"})
    assert (legacy.access_token_secret_id, legacy.cloudflare_secret_id) == ("arn:one", "arn:one")
    assert settings_from_env({}).secret_ttl_seconds == 300


def test_ids_sort_by_creation_time() -> None:
    from openai_cf.ids import new_id

    earlier, later = new_id("msg_", now_ms=1_000), new_id("msg_", now_ms=2_000)
    assert earlier.startswith("msg_")
    assert earlier < later
    assert new_id("x", now_ms=5) != new_id("x", now_ms=5)


def test_generation_logs_are_structure_only_and_carry_emf_metrics() -> None:
    import logging

    from openai_cf.api.logs import JsonFormatter

    # Given a generation record that (wrongly) also tries to log a prompt
    record = logging.LogRecord("openai_cf.services.generation", logging.INFO, __file__, 1, "generation", None, None)
    for key, value in {"endpoint": "chat.completions", "model": "@cf/m", "prompt_tokens": 3, "prompt": "secret text",
                       "metrics": {"Requests": 1, "PromptTokens": 3, "CompletionTokens": None}}.items():  # fmt: skip
        setattr(record, key, value)
    # When it is formatted
    line = json.loads(JsonFormatter().format(record))
    # Then the prompt is dropped and CloudWatch can read the metrics
    assert "secret text" not in json.dumps(line)
    assert line["PromptTokens"] == 3
    emf = line["_aws"]["CloudWatchMetrics"][0]
    assert emf["Dimensions"] == [["endpoint", "model"]]
    assert [m["Name"] for m in emf["Metrics"]] == ["Requests", "PromptTokens"]
