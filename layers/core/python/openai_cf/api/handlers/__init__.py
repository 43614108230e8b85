"""Route handlers: parse the request model, call one service, return the response model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from openai_cf.api.responses import json_response
from openai_cf.api.sse import sse_response

P = TypeVar("P")


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
        chunks = await run_in_threadpool(open_stream, params)
        return sse_response(chunks, keepalive_seconds=keepalive_seconds)
    return json_response(await run_in_threadpool(create, params))
