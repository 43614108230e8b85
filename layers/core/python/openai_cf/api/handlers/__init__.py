"""Route handlers: parse the request model, call one service, return the response model.

Service calls block on the network, so they run in worker threads, with two rules that keep one
client from costing others: each route has its own pool (a flood of slow generations cannot make
`GET /v1/models` wait), and each call runs in its own cancel scope that is cancelled the moment
the client disconnects, so an abandoned upstream call ends at once and frees its thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive

from openai_cf import cancel
from openai_cf.api.responses import json_response
from openai_cf.api.sse import sse_response
from openai_cf.errors import ClientClosedRequest

P = TypeVar("P")
R = TypeVar("R")


@cache
def _executor(route: str) -> ThreadPoolExecutor:
    # Upstream calls block on the network, not the CPU: many may wait at once.
    return ThreadPoolExecutor(max_workers=64, thread_name_prefix=f"openai-cf-{route}")


async def _client_gone(receive: Receive) -> None:
    # The body has been read, so the next message is the disconnect (if it ever comes).
    while (await receive())["type"] != "http.disconnect":
        pass


def _retrieve(future: asyncio.Future[Any]) -> None:
    # The abandoned call's outcome (usually `Cancelled`) interests nobody; retrieving it keeps
    # asyncio from logging it as never retrieved.
    if not future.cancelled():
        future.exception()


async def in_thread(
    request: Request, function: Callable[..., R], *args: Any, scope: cancel.CancelScope | None = None
) -> R:
    """Run a blocking service call off the event loop; abandon it if the client disconnects.

    A plain executor rather than Starlette's `run_in_threadpool`: that imports anyio's asyncio
    backend on first use, ~15 ms of every cold start's first request.
    """
    scope = scope or cancel.CancelScope()
    loop = asyncio.get_running_loop()
    route = request.scope["endpoint"].__name__
    work = loop.run_in_executor(_executor(route), cancel.run_in, scope, function, *args)
    watch = loop.create_task(_client_gone(request.receive))
    try:
        await asyncio.wait((work, watch), return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        scope.cancel()
        raise
    finally:
        watch.cancel()
    if work.done():
        return work.result()
    scope.cancel()
    work.add_done_callback(_retrieve)
    raise ClientClosedRequest("The client closed the connection before the answer was ready.")


async def answer(
    request: Request,
    params: P,
    *,
    stream: bool,
    create: Callable[[P], Any],
    open_stream: Callable[[P], Iterator[Any]],
    keepalive_seconds: float,
) -> Response:
    """JSON, or SSE when the body said `"stream": true`. The service's blocking calls run in a
    worker thread; a stream's upstream is opened there too, before any byte is sent, and the
    stream's producer keeps the same cancel scope until the stream ends or its client leaves."""
    if stream:
        scope = cancel.CancelScope()
        chunks = await in_thread(request, open_stream, params, scope=scope)
        return sse_response(chunks, keepalive_seconds=keepalive_seconds, scope=scope)
    return json_response(await in_thread(request, create, params))
