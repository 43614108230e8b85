"""Every function invoked with its event from events/ (the files `sam local invoke -e` takes), in
process: CI has no Docker, so no SAM.

HTTP functions are reached as the Lambda Web Adapter reaches them on AWS: the API Gateway event
becomes an HTTP/1.1 request to the function's own app (functions/<name>/app.py, served by uvicorn on
loopback) with the event's method, path, query string and headers, the body base64-decoded when the
event says so, and the adapter's `x-amzn-request-context` / `x-amzn-lambda-context` headers. The
run executor's handler (functions/run_executor/handler.py) gets its SQS event. Behind them: the
offline emulator and the embedded moto server, set up as on Lambda, through environment variables.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import requests

from openai_cf.api.server import BackgroundServer
from openai_cf.executor import handler as executor_module
from openai_cf.local.poller import LocalContext
from openai_cf.routes import FUNCTIONS
from openai_cf.settings import get_settings
from openai_cf.storage.aws import AwsClients
from tests.contract.validate import assert_matches

from .conftest import BUCKET, EMULATOR_TOKEN, TABLE, local_aws, run_queue

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
# What each function's event asks for, and the official schema of the answer.
ANSWERS = {
    "models": "ListModelsResponse",
    "chat_completions": "CreateChatCompletionResponse",
    "completions": "CreateCompletionResponse",
    "embeddings": "CreateEmbeddingResponse",
    "moderations": "CreateModerationResponse",
    "images": "ImagesResponse",
    "files": "OpenAIFile",
    "uploads": "Upload",
    "assistants": "AssistantObject",
    "threads": "ThreadObject",
    "runs": "RunObject",
    "audio": "CreateTranscriptionResponseJson",
}


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


def event_token(event: dict[str, Any]) -> str:
    return str(event["headers"]["Authorization"]).removeprefix("Bearer ")


def _module(name: str, path: Path) -> ModuleType:
    """A function's entry module, loaded as Lambda loads it (its own file, a name of its own)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def web_adapter_request(event: dict[str, Any]) -> tuple[str, str, list[tuple[str, str]], bytes]:
    """(method, path?query, headers, body) of the request the Web Adapter sends for an API Gateway
    REST (v1) proxy event: the path as the client sent it (`path`, no stage), every header value,
    the query from the multi-value parameters, and the two context headers it adds."""
    query = urllib.parse.urlencode(
        [(k, v) for k, values in (event.get("multiValueQueryStringParameters") or {}).items() for v in values]
    )
    headers = [(k, v) for k, values in (event.get("multiValueHeaders") or {}).items() for v in values]
    headers += [
        ("x-amzn-request-context", json.dumps(event["requestContext"])),
        ("x-amzn-lambda-context", json.dumps({"request_id": "8f5c2d1e-lambda", "deadline": 0})),
    ]
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
    return event["httpMethod"], event["path"] + (f"?{query}" if query else ""), headers, body


@pytest.fixture
def lambda_env(emulator: BackgroundServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The environment CDK gives the functions, pointed at moto and the emulator."""
    queue_url = run_queue()
    env = {
        "ACCESS_TOKEN": event_token(load_event("models")),
        "CLOUDFLARE_ACCOUNT_ID": "test-account",
        "CLOUDFLARE_API_TOKEN": EMULATOR_TOKEN,
        "CLOUDFLARE_API_BASE_URL": f"{emulator.url}/client/v4",
        "OPENAI_CF_MAX_RETRIES": "0",
        "AWS_ENDPOINT_URL": local_aws(),
        "AWS_REGION": "us-east-1",
        "OPENAI_CF_TABLE": TABLE,
        "OPENAI_CF_BUCKET": BUCKET,
        "OPENAI_CF_RUN_QUEUE_URL": queue_url,
        "LOG_LEVEL": "WARNING",
        # What Lambda and the adapter set: the app then takes its request id from API Gateway's.
        "AWS_LAMBDA_FUNCTION_NAME": "openai-cf-test",
        "AWS_LWA_INVOKE_MODE": "response_stream",
    }
    monkeypatch.delenv("OPENAI_CF_SECRET_ARN", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # Settings and the executor are read once per process, as on Lambda: start afresh, leave none behind.
    get_settings.cache_clear()
    executor_module._default_handler.cache_clear()
    yield env
    get_settings.cache_clear()
    executor_module._default_handler.cache_clear()


Invoke = Callable[[str, dict[str, Any]], requests.Response]


@pytest.fixture
def invoke(lambda_env: dict[str, str]) -> Iterator[Invoke]:
    """Invoke an HTTP function with an event; each function's app is started once."""
    servers: dict[str, BackgroundServer] = {}

    def call(name: str, event: dict[str, Any]) -> requests.Response:
        if name not in servers:
            app = _module(f"lambda_function_{name}", ROOT / "functions" / name / "app.py").app
            servers[name] = BackgroundServer(app).start()
        method, target, headers, body = web_adapter_request(event)
        session = requests.Session()
        # Only the event's headers, as the adapter sends them (no defaults of requests').
        session.headers.clear()
        request = requests.Request(method, f"{servers[name].url}{target}", data=body or None)
        prepared = session.prepare_request(request)
        for key, value in headers:
            prepared.headers[key] = value
        return session.send(prepared, timeout=20)

    yield call
    for server in servers.values():
        server.stop()


def _create_assistant(invoke: Invoke) -> str:
    answer = invoke("assistants", load_event("assistants"))
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


def _with_assistant(event: dict[str, Any], assistant_id: str) -> dict[str, Any]:
    """The runs event for an assistant of this store (the file's id is an example)."""
    body = json.loads(event["body"])
    return {**event, "body": json.dumps({**body, "assistant_id": assistant_id})}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_http_function_answers_its_event(invoke: Invoke, name: str) -> None:
    # Given the function's event (the runs event names an assistant: one of this store's)
    event = load_event(name)
    if name == "runs":
        event = _with_assistant(event, _create_assistant(invoke))
    # When the Web Adapter would hand it to the function's app
    answer = invoke(name, event)
    # Then the answer is the OpenAI object the route promises
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert_matches(ANSWERS[name], answer.json())
    # And the request id is API Gateway's, which the adapter passed on
    assert answer.headers["x-request-id"] == "req_" + event["requestContext"]["requestId"].replace("-", "")


def test_every_function_has_an_event_and_a_check() -> None:
    assert set(ANSWERS) == set(FUNCTIONS)
    assert {p.stem for p in EVENTS.glob("*.json")} == {*FUNCTIONS, "run_executor"}


def test_the_file_upload_event_carries_its_bytes(invoke: Invoke) -> None:
    # Given the multipart upload event (a binary media type: API Gateway base64-encodes the body)
    event = load_event("files")
    assert event["isBase64Encoded"] is True
    # When it is invoked, then the stored file has exactly the part's bytes
    created = invoke("files", event).json()
    content = invoke("files", {**load_event("models"), "path": f"/v1/files/{created['id']}/content"})
    assert content.status_code == 200
    assert content.content == b"Meeting notes: ship the deploy guide on Friday.\n"
    assert created["bytes"] == len(content.content)


def _queued_message(queue_url: str) -> dict[str, Any]:
    sqs = AwsClients(region="us-east-1", endpoint_url=local_aws()).client("sqs")
    found = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=2, AttributeNames=["All"]).get("Messages", [])
    assert len(found) == 1
    message: dict[str, Any] = found[0]
    return message


def test_the_run_executor_runs_the_queued_run(invoke: Invoke, lambda_env: dict[str, str]) -> None:
    # Given a run created through the runs function, whose message is on the run queue
    run = invoke("runs", _with_assistant(load_event("runs"), _create_assistant(invoke))).json()
    assert run["status"] == "queued"
    message = _queued_message(lambda_env["OPENAI_CF_RUN_QUEUE_URL"])
    # And the executor's event, carrying that message (the file's ids are examples)
    event = load_event("run_executor")
    record = event["Records"][0]
    assert json.loads(record["body"]).keys() == json.loads(message["Body"]).keys()
    record.update(
        messageId=message["MessageId"], receiptHandle=message["ReceiptHandle"], body=message["Body"],
        md5OfBody=hashlib.md5(message["Body"].encode()).hexdigest(),  # SQS's checksum of the body
    )  # fmt: skip
    handler = _module("lambda_function_run_executor", ROOT / "functions" / "run_executor" / "handler.py").handler
    # When the executor's handler gets the event
    answer = handler(event, LocalContext())
    # Then no record failed, and the run is done
    assert answer == {"batchItemFailures": []}
    path = f"/v1/threads/{run['thread_id']}/runs/{run['id']}"
    done = invoke("runs", {**load_event("runs"), "httpMethod": "GET", "path": path, "body": None})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"
