"""Route handlers: parse the request model, call one service, return the response model."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any, TypeVar

from starlette.responses import Response

from openai_cf.api.responses import json_response
from openai_cf.api.sse import sse_response

P = TypeVar("P")
R = TypeVar("R")


@cache
def _executor() -> ThreadPoolExecutor:
    # Upstream calls block on the network, not the CPU: many may wait at once.
    return ThreadPoolExecutor(max_workers=64, thread_name_prefix="openai-cf")


async def in_thread(function: Callable[..., R], *args: Any) -> R:
    """Run a blocking service call off the event loop.

    A plain executor rather than Starlette's `run_in_threadpool`: that imports anyio's asyncio
    backend on first use, ~15 ms of every cold start's first request.
    """
    return await asyncio.get_running_loop().run_in_executor(_executor(), function, *args)


async def answer(
    params: P,
    *,
    stream: bool,
    create: Callable[[P], Any],
    open_stream: Callable[[P], Iterator[Any]],
    keepalive_seconds: float,
) -> Response:
    """JSON, or SSE when the body said `"stream": true`. The service's blocking calls run in a
    worker thread; a stream's upstream is opened there too, before any byte is sent."""
    if stream:
        chunks = await in_thread(open_stream, params)
        return sse_response(chunks, keepalive_seconds=keepalive_seconds)
    return json_response(await in_thread(create, params))
