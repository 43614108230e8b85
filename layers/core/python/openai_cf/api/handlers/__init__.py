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
from functools import cache, partial
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive

from openai_cf import cancel
from openai_cf.api.responses import json_response
from openai_cf.api.sse import sse_response
from openai_cf.errors import ClientClosedRequest

# Watcher tasks, referenced until they end (the event loop keeps only weak references to tasks).
_watchers: set[asyncio.Task[None]] = set()

P = TypeVar("P")
R = TypeVar("R")


@cache
def _executor(route: str) -> ThreadPoolExecutor:
    # Upstream calls block on the network, not the CPU: many may wait at once.
    return ThreadPoolExecutor(max_workers=64, thread_name_prefix=f"openai-cf-{route}")


async def _cancel_when_gone(receive: Receive, scope: cancel.CancelScope, work: asyncio.Future[Any]) -> None:
    # The body has been read, so the next message is the disconnect, or (uvicorn, Starlette's test
    # client) the end of our own response: a finished call makes that cancel a no-op.
    while (await receive())["type"] != "http.disconnect":
        pass
    if not work.done():
        scope.cancel()


async def in_thread(
    request: Request, function: Callable[..., R], *args: Any, scope: cancel.CancelScope | None = None
) -> R:
    """Run a blocking service call off the event loop; abandon it if the client disconnects.

    The handler awaits the call itself; a watcher task cancels the call's scope if the client
    leaves first, which makes the call fail at once with `Cancelled`. (Racing the two with
    `asyncio.wait` and cancelling the loser cost half as much again, counted in instructions.)
    A plain executor rather than Starlette's `run_in_threadpool`: that imports anyio's asyncio
    backend on first use, ~15 ms of every cold start's first request.
    """
    scope = scope or cancel.CancelScope()
    loop = asyncio.get_running_loop()
    route = request.scope["endpoint"].__name__
    work = loop.run_in_executor(_executor(route), cancel.run_in, scope, function, *args)
    watcher = loop.create_task(_cancel_when_gone(request.receive, scope, work))
    _watchers.add(watcher)
    watcher.add_done_callback(_watchers.discard)
    try:
        return await work
    except cancel.Cancelled:
        raise ClientClosedRequest("The client closed the connection before the answer was ready.") from None
    except asyncio.CancelledError:
        scope.cancel()
        raise


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
        return await stream_answer(request, partial(open_stream, params), keepalive_seconds=keepalive_seconds)
    return json_response(await in_thread(request, create, params))


async def stream_answer(
    request: Request, open_stream: Callable[[], Iterator[Any]], *, keepalive_seconds: float, named: bool = False
) -> Response:
    """SSE: `open_stream` runs in a worker thread (anything it refuses is still an HTTP error),
    and the stream's producer keeps its cancel scope until the stream ends or its client leaves.
    `named`: an Assistants stream (`event:` lines, `event: done`)."""
    scope = cancel.CancelScope()
    chunks = await in_thread(request, open_stream, scope=scope)
    return sse_response(chunks, keepalive_seconds=keepalive_seconds, scope=scope, named=named)
