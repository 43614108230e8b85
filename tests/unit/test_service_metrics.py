"""The HTTP functions' service metrics (EMF): what the CloudWatch alarms watch.

The dimension sets here are a contract with infra/constructs/monitoring.py: tests/infra checks the
alarms against the same constants.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from openai_cf import errors as e
from openai_cf.api.app import create_app
from openai_cf.api.logs import JsonFormatter, is_upstream
from openai_cf.api.sse import sse_events
from openai_cf.services.models import ModelRegistry
from openai_cf.settings import Settings
from openai_cf.workers_ai.errors import UpstreamFailure

AUTH = {"Authorization": "Bearer t"}
SETTINGS = Settings(access_tokens=("t",), cloudflare_account_id="a", cloudflare_api_token="k")

Lines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def log_lines() -> Iterator[Lines]:
    """Every JSON line the package logs during the test, parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("openai_cf")
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


def _emf(line: dict[str, Any]) -> tuple[str, list[list[str]], dict[str, str]]:
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    units = {m["Name"]: m["Unit"] for m in directive["Metrics"]}
    return directive["Namespace"], directive["Dimensions"], units


def _failing_models(monkeypatch: pytest.MonkeyPatch, error: e.OpenAICFError) -> TestClient:
    def fail(self: ModelRegistry) -> None:
        raise error

    monkeypatch.setattr(ModelRegistry, "list_models", fail)
    return TestClient(create_app("models", settings=lambda: SETTINGS))


def test_every_request_measures_its_time_to_first_byte(monkeypatch: pytest.MonkeyPatch, log_lines: Lines) -> None:
    client = _failing_models(monkeypatch, e.NotFoundError("nothing here"))
    client.get("/v1/models", headers=AUTH)
    (request,) = [line for line in log_lines() if line["message"] == "request"]
    # Then the request line is a metric of the API as a whole
    assert _emf(request) == ("openai-cf", [["service"]], {"TimeToFirstByte": "Milliseconds"})
    assert request["service"] == "api"
    assert request["TimeToFirstByte"] >= 0


def test_an_upstream_failure_is_counted_without_its_message(monkeypatch: pytest.MonkeyPatch, log_lines: Lines) -> None:
    # Given Workers AI failing with a message that quotes the request
    failure = UpstreamFailure(status=503, code=None, message="overloaded while reading 'my secret prompt'")
    client = _failing_models(monkeypatch, failure.to_error(model="gpt-4o"))
    # When a client calls
    assert client.get("/v1/models", headers=AUTH).status_code == 502
    # Then one UpstreamErrors count, with status and code only
    (line,) = [line for line in log_lines() if line.get("UpstreamErrors")]
    assert _emf(line) == ("openai-cf", [["service"]], {"UpstreamErrors": "Count"})
    assert (line["service"], line["status"], line["code"]) == ("api", 502, "upstream_error")
    assert "secret prompt" not in json.dumps(log_lines())


def test_a_request_workers_ai_rightly_refused_is_not_an_upstream_error(
    monkeypatch: pytest.MonkeyPatch, log_lines: Lines
) -> None:
    refused = UpstreamFailure(status=400, code=5006, message="bad input").to_error(model="gpt-4o")
    client = _failing_models(monkeypatch, refused)
    assert client.get("/v1/models", headers=AUTH).status_code == 400
    assert not [line for line in log_lines() if "UpstreamErrors" in line]


@pytest.mark.anyio
async def test_a_stream_that_fails_upstream_is_counted(log_lines: Lines) -> None:
    def failing() -> Iterator[dict[str, Any]]:
        yield {"id": "chatcmpl-1"}
        raise e.GatewayTimeoutError("Workers AI did not answer in time.")

    async for _ in sse_events(failing(), keepalive_seconds=5):
        pass
    (line,) = [line for line in log_lines() if line.get("UpstreamErrors")]
    assert line["code"] == "upstream_timeout"


@pytest.mark.parametrize(
    ("error", "upstream"),
    [
        (e.BadGatewayError("x"), True),
        (e.GatewayTimeoutError("x"), True),
        (e.RateLimitError("x", code="insufficient_quota"), True),
        (e.InternalServerError("x", code="upstream_auth_failed"), True),
        (e.PermissionDeniedError("x", code="upstream_billing"), True),
        (e.InternalServerError("x", code="storage_error"), False),
        (e.ServiceUnavailableError("Storage is busy"), False),
        (e.NotFoundError("x", code="model_not_found"), False),
        (e.InvalidRequestError("x", code="invalid_data"), False),
    ],
)
def test_what_counts_as_upstream(error: e.OpenAICFError, upstream: bool) -> None:
    assert is_upstream(error) is upstream


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
