"""Where a function's cold start goes, measured in-process.

Run `python -c bootstrap(launcher) <function>` in `functions/<function>/` (so `import app` is that
function's app) with the function's environment and `bench` on PYTHONPATH: it times importing the
launcher module run.sh starts (`python -m <launcher>`) and `import app` before anything else is
imported, then `finish` drives the ASGI app
directly with the function's first real request twice, timing parts of the first one with
wrappers: `build_services`, the packaged model catalogue, anyio's worker-thread backend (imported
on first use), upstream calls and their TCP connects. Prints JSON.

The request definitions here are shared with the cold-start benchmark (this module imports only the
standard library and `bench.procs` at the top).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bench.procs import ACCESS_TOKEN


def bootstrap(launcher: str) -> str:
    """The `-c` program: time the launcher's and the app's imports first, then hand over to `finish`."""
    return (
        f"import time; t0 = time.perf_counter(); import {launcher}; t1 = time.perf_counter(); import app; "
        "t2 = time.perf_counter(); import sys; from bench.firstreq import finish; finish(sys.argv[1], t0, t1, t2)"
    )


@dataclass(frozen=True)
class FirstRequest:
    method: str
    path: str
    payload: dict[str, Any] | None = None

    @property
    def body(self) -> bytes:
        return b"" if self.payload is None else json.dumps(self.payload, separators=(",", ":")).encode()


FIRST_REQUESTS: dict[str, FirstRequest] = {
    "models": FirstRequest("GET", "/v1/models"),
    "chat_completions": FirstRequest(
        "POST",
        "/v1/chat/completions",
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello in one short sentence."}]},
    ),
    "completions": FirstRequest(
        "POST", "/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "Say hello", "max_tokens": 16}
    ),
    "embeddings": FirstRequest(
        "POST", "/v1/embeddings", {"model": "text-embedding-3-small", "input": "The quick brown fox."}
    ),
}


class Timings:
    def __init__(self) -> None:
        self.spans: dict[str, list[float]] = {}

    def wrap(self, owner: Any, attribute: str, label: str) -> None:
        """Replace owner.attribute by a wrapper recording each call's duration (skipped if absent)."""
        original = getattr(owner, attribute, None)
        if original is None:
            return

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.spans.setdefault(label, []).append(time.perf_counter() - started)

        setattr(owner, attribute, timed)

    def take(self) -> dict[str, list[float]]:
        spans, self.spans = self.spans, {}
        return spans


async def call(app: Callable[..., Awaitable[None]], request: FirstRequest) -> int:
    body = request.body
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"authorization", f"Bearer {ACCESS_TOKEN}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": "http",
        "path": request.path,
        "raw_path": request.path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    delivered = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def _instrument(timings: Timings) -> None:
    api_app = importlib.import_module("openai_cf.api.app")
    timings.wrap(api_app, "build_services", "build_services")
    to_thread = importlib.import_module("anyio.to_thread")
    timings.wrap(to_thread, "get_async_backend", "anyio_backend")
    models = importlib.import_module("openai_cf.services.models")
    timings.wrap(models, "packaged_models", "packaged_models")
    client = importlib.import_module("openai_cf.workers_ai.client")
    timings.wrap(client.WorkersAIClient, "_send", "upstream")
    connection = importlib.import_module("urllib3.connection")
    timings.wrap(connection.HTTPConnection, "connect", "tcp_connect")


async def _requests(app: Callable[..., Awaitable[None]], request: FirstRequest, timings: Timings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label in ("first", "second"):
        started = time.perf_counter()
        status = await call(app, request)
        out[label] = time.perf_counter() - started
        out[f"{label}_status"] = status
        out[f"{label}_spans"] = timings.take()
    return out


def finish(function: str, started: float, after_launcher: float, after_app: float) -> None:
    app = sys.modules["app"].app
    timings = Timings()
    _instrument(timings)
    result = asyncio.run(_requests(app, FIRST_REQUESTS[function], timings))
    out = {"import_launcher": after_launcher - started, "import_app": after_app - after_launcher, **result}
    print(json.dumps(out))
