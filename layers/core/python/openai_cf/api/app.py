"""The ASGI app factory every function uses: its routes from the route table, one error envelope.

    create_app("chat_completions")   # one Lambda function's app
    create_app()                     # every route: the local server

Middleware order (outside in): CORS (off unless origins are set) → request context (ids, timing,
last-resort errors) → bearer auth → body limit → Starlette routing. Services are built on the
first request, not at import.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route as StarletteRoute
from starlette.types import ASGIApp

from openai_cf.api.cors import Cors
from openai_cf.api.logs import configure_logging, count_upstream_error
from openai_cf.api.middleware import BearerAuth, BodyLimit, RequestContext, behind_web_adapter
from openai_cf.api.responses import error_response
from openai_cf.errors import MethodNotAllowedError, NotFoundError, OpenAICFError, unexpected_error
from openai_cf.routes import routes_for
from openai_cf.services.container import Services, build_services
from openai_cf.settings import Settings, get_settings


def _import(path: str) -> Callable[..., Any]:
    module, _, attribute = path.partition(":")
    handler: Callable[..., Any] = getattr(importlib.import_module(module), attribute)
    return handler


async def _openai_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OpenAICFError)
    count_upstream_error(exc)
    return error_response(exc)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    # Starlette's server-error middleware answers with this, then re-raises for `RequestContext`
    # to log: without it an unexpected exception became a text/plain 500 that SDKs retry.
    return error_response(unexpected_error(request.state.request_id))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return error_response(MethodNotAllowedError(f"Method {request.method} is not allowed on {request.url.path}."))
    if exc.status_code == 404:
        return error_response(NotFoundError(f"Invalid URL ({request.method} {request.url.path})", code="unknown_url"))
    return error_response(OpenAICFError(str(exc.detail)))


class _LazyServices:
    """Builds the service graph once, on first use, shared by all requests of the app."""

    def __init__(self, settings: Callable[[], Settings], build: Callable[[Settings], Services]) -> None:
        self._settings = settings
        self._build = build
        self._services: Services | None = None
        self._lock = threading.Lock()

    def __call__(self) -> Services:
        if self._services is None:
            with self._lock:
                if self._services is None:
                    self._services = self._build(self._settings())
        return self._services


def services(request: Request) -> Services:
    get: _LazyServices = request.app.state.services
    return get()


def create_app(
    function: str | None = None,
    *,
    settings: Callable[[], Settings] = get_settings,
    build: Callable[[Settings], Services] = build_services,
) -> ASGIApp:
    """The app of one function (every route if None); `build` makes the service graph (tests
    replace what talks to the world there)."""
    routes = [
        StarletteRoute(row.path, _import(row.handler), methods=[row.method], include_in_schema=False)
        for row in routes_for(function)
    ]
    # Read from the environment, not `settings()`: that may fetch secrets, and building an app
    # happens at import time of a function's app.py (Lambda init), which must do no I/O.
    configure_logging(os.environ.get("LOG_LEVEL") or "INFO")
    handlers = {OpenAICFError: _openai_error, HTTPException: _http_error, Exception: _unexpected_error}
    app = Starlette(routes=routes, exception_handlers=handlers)
    lazy = _LazyServices(settings, build)
    app.state.services = lazy
    app.state.settings = settings
    guarded = BearerAuth(
        BodyLimit(
            app,
            max_bytes=lambda: settings().max_request_bytes,
            binary_max_bytes=lambda: settings().max_binary_request_bytes,
        ),
        # The environment's tokens, else the access-token secret's (re-read every few minutes).
        tokens=lambda: lazy().credentials.access_tokens(),
    )
    return Cors(
        RequestContext(guarded, trust_platform=behind_web_adapter(os.environ)),
        origins=lambda: settings().cors_allowed_origins,
        methods=[row.method for row in routes_for(function)],
    )
