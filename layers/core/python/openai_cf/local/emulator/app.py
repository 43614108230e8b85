"""The emulator's ASGI app: Cloudflare's `/client/v4/accounts/{account}/ai/...` routes, auth, envelopes.

This is a development and test double that speaks Workers AI's REST contract offline; it is not
Workers AI and runs no model. See `openai_cf.local.emulator` for the directive list.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from openai_cf.workers_ai.catalog import TEXT_EMBEDDINGS, TEXT_GENERATION, TEXT_TO_IMAGE, ModelInfo, packaged_models

from .audio import SPEECH_RECOGNITION_HANDLER, TEXT_TO_SPEECH_HANDLER
from .context import RunContext, TaskHandler
from .directives import Directives, parse_directives
from .embeddings import EMBEDDINGS_HANDLER
from .errors import DEFAULT_API_TOKEN, EmulatorError, failure_response, not_implemented
from .guard import GUARD_HANDLER, is_guard
from .images import TEXT_TO_IMAGE_HANDLER
from .journal import Journal
from .models_api import deprecation_date, model_schema, search_models
from .text import TEXT_GENERATION_HANDLER
from .validation import json_type, validate_input

PREFIX = "/client/v4/accounts/{account}/ai"

TASK_HANDLERS: dict[str, TaskHandler] = {
    TEXT_GENERATION: TEXT_GENERATION_HANDLER,
    TEXT_EMBEDDINGS: EMBEDDINGS_HANDLER,
    "Automatic Speech Recognition": SPEECH_RECOGNITION_HANDLER,
    "Text-to-Speech": TEXT_TO_SPEECH_HANDLER,
    TEXT_TO_IMAGE: TEXT_TO_IMAGE_HANDLER,
}


@dataclass
class EmulatorState:
    """Per-app mutable state: the clock and the `emulate:times=K` failure counters."""

    now: Callable[[], float]
    journal: Journal = field(default_factory=Journal)
    _counts: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, key: str) -> int:
        """Record one more request with this key; return how many there have been."""
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            return self._counts[key]


class BearerAuth:
    """Pure ASGI middleware: every request needs `Authorization: Bearer <token>` (else 401/10000)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or token.strip() != self.expected:
                await failure_response(10000, "Authentication error", status=401)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _model(name: str) -> ModelInfo:
    info = packaged_models().get(name)
    if info is None:
        raise EmulatorError(5007, model=name)
    if info.deprecated:
        raise EmulatorError(5028, date=deprecation_date(name))
    return info


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        raise EmulatorError(3003, detail="body")
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise EmulatorError(5006, detail=f"Invalid JSON body: {exc.msg}") from None
    except ValueError:
        raise EmulatorError(5006, detail="Invalid JSON body") from None
    if not isinstance(body, dict):
        raise EmulatorError(5006, detail=f"Type mismatch of '/', '{json_type(body)}' not in 'object'")
    return body


def _emulated_failure(state: EmulatorState, model: str, body: dict[str, Any], d: Directives) -> Response | None:
    """The failure `emulate:error=` / `emulate:http=` asks for, unless `emulate:times=K` is used up."""
    if not d.fails:
        return None
    if d.times is not None:
        key = hashlib.sha256((model + json.dumps(body, sort_keys=True, default=str)).encode()).hexdigest()
        if state.count(key) > d.times:
            return None
    if d.http is not None and 400 <= d.http <= 599:
        phrase = HTTPStatus(d.http).phrase if d.http in HTTPStatus._value2member_map_ else "Error"
        return PlainTextResponse(phrase, status_code=d.http)
    if d.error is not None:
        status = d.status if d.status is not None and 400 <= d.status <= 599 else None
        return EmulatorError(d.error, status=status, model=model).response()
    return None


async def run_model(request: Request) -> Response:
    state: EmulatorState = request.app.state.emulator
    info = _model(request.path_params["model"])
    # Llama Guard shares the Text Generation task but answers verdicts, not generations.
    handler = GUARD_HANDLER if is_guard(info.name) else TASK_HANDLERS.get(info.task)
    if handler is None:
        raise not_implemented(f"task {info.task}")
    if request.query_params.get("queueRequest", "").lower() == "true":
        raise not_implemented("queued (async batch) requests")
    body = {key: value for key, value in (await _json_body(request)).items() if key != "options"}
    directives = parse_directives(handler.directive_text(body))
    visit = state.journal.open(directives.tag)
    if directives.delay_ms and not await _pause(request, directives.delay_ms / 1000):
        if visit is not None:
            visit.finish(abandoned=True)
        return Response(status_code=499)  # nobody is left to read it
    failure = _emulated_failure(state, info.name, body, directives)
    if failure is not None:
        return failure
    validate_input(info.name, body)
    response = await handler.run(RunContext(info=info, body=body, directives=directives, now=state.now, visit=visit))
    if visit is not None and not isinstance(response, StreamingResponse):
        visit.finish(abandoned=False)
    return response


async def _pause(request: Request, seconds: float) -> bool:
    """Sleep, like a model thinking; False as soon as the client disconnects instead."""

    async def client_gone() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    sleep = asyncio.ensure_future(asyncio.sleep(seconds))
    gone = asyncio.ensure_future(client_gone())
    done, _ = await asyncio.wait((sleep, gone), return_when=asyncio.FIRST_COMPLETED)
    sleep.cancel()
    gone.cancel()
    return sleep in done


async def _emulator_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, EmulatorError)
    return exc.response()


async def _not_found(request: Request, _: Exception) -> Response:
    return EmulatorError(7003, path=request.url.path).response()


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    response = EmulatorError(7001, method=request.method).response()
    if isinstance(exc, HTTPException) and exc.headers:
        response.headers.update(exc.headers)
    return response


async def _internal_error(_: Request, __: Exception) -> Response:
    return EmulatorError(3043).response()


def create_app(*, api_token: str = DEFAULT_API_TOKEN, now: Callable[[], float] = time.time) -> Starlette:
    """The emulator as an ASGI app (serve it with uvicorn, or drive it with Starlette's TestClient)."""
    routes = [
        Route(f"{PREFIX}/run/{{model:path}}", run_model, methods=["POST"]),
        Route(f"{PREFIX}/models/search", search_models, methods=["GET"]),
        Route(f"{PREFIX}/models/schema", model_schema, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(BearerAuth, token=api_token)],
        exception_handlers={
            EmulatorError: _emulator_error,
            404: _not_found,
            405: _method_not_allowed,
            Exception: _internal_error,
        },
    )
    app.router.redirect_slashes = False
    app.state.emulator = EmulatorState(now=now)
    return app
