"""The SSE writer for chat, completions and Assistants streams.

A producer thread drives the service's (blocking) chunk iterator and hands chunks to the event
loop as they come, so each token is written the moment it arrives. The writer sends `: keep-alive`
comments during upstream silences (API Gateway drops idle streams after 5 min), ends with
`data: [DONE]`, and reports a failure after the first byte in-band as `data: {"error": …}`.

Assistants streams name their events (`event: thread.run.created` before each `data:` line) and
end with `event: done` / `data: [DONE]`: a service yields `ServerEvent`s (`schemas.streams`) for
those, and the failure event is then `event: error`, as openai-python's `AssistantEventHandler`
expects.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

from starlette.responses import StreamingResponse

from openai_cf import cancel
from openai_cf.api.logs import count_upstream_error
from openai_cf.api.responses import dumps, error_body
from openai_cf.errors import ClientClosedRequest, OpenAICFError
from openai_cf.schemas.streams import ServerEvent

__all__ = ["DONE", "KEEPALIVE", "NAMED_DONE", "ServerEvent", "encode", "sse_events", "sse_response"]

logger = logging.getLogger("openai_cf.sse")

_END = object()
KEEPALIVE = b": keep-alive\n\n"
DONE = b"data: [DONE]\n\n"
NAMED_DONE = b"event: done\ndata: [DONE]\n\n"


def encode(chunk: Any) -> bytes:
    if isinstance(chunk, ServerEvent):
        return b"event: " + chunk.event.encode() + b"\ndata: " + dumps(chunk.data) + b"\n\n"
    return b"data: " + dumps(chunk) + b"\n\n"


def _produce(
    chunks: Iterator[Any],
    loop: asyncio.AbstractEventLoop,
    queue: asyncio.Queue[Any],
    stop: threading.Event,
    scope: cancel.CancelScope | None,
) -> None:
    # This thread is the stream's own: its upstream calls (later choices too) follow `scope`.
    with cancel.bound(scope):
        try:
            for chunk in chunks:
                loop.call_soon_threadsafe(queue.put_nowait, chunk)
                if stop.is_set():
                    break
        except BaseException as exc:  # handed to the writer, which reports it in-band
            loop.call_soon_threadsafe(queue.put_nowait, exc)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
            loop.call_soon_threadsafe(queue.put_nowait, _END)


async def sse_events(
    chunks: Iterator[Any], *, keepalive_seconds: float, scope: cancel.CancelScope | None = None, named: bool = False
) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue()
    stop = threading.Event()
    threading.Thread(target=_produce, args=(chunks, loop, queue, stop, scope), daemon=True).start()
    try:
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), timeout=keepalive_seconds)
            except TimeoutError:
                yield KEEPALIVE
                continue
            if item is _END:
                yield NAMED_DONE if named else DONE
                return
            if isinstance(item, BaseException):
                yield (b"event: error\n" if named else b"") + _error_event(item)
                return
            yield encode(item)
    finally:
        # The client went away or we finished: stop the producer now, even mid-read of an upstream
        # token (the scope shuts its connection down), not at the next token.
        stop.set()
        if scope is not None:
            scope.cancel()


def _error_event(exc: BaseException) -> bytes:
    if isinstance(exc, OpenAICFError):
        error = exc
        count_upstream_error(exc)
    elif isinstance(exc, cancel.Cancelled):
        error = ClientClosedRequest("The stream was cancelled.")
    else:
        logger.error("stream failed", exc_info=exc)
        error = OpenAICFError("The server had an error while streaming the response.")
    return b"data: " + json.dumps(error_body(error), separators=(",", ":")).encode() + b"\n\n"


def sse_response(
    chunks: Iterator[Any], *, keepalive_seconds: float, scope: cancel.CancelScope | None = None, named: bool = False
) -> StreamingResponse:
    return StreamingResponse(
        sse_events(chunks, keepalive_seconds=keepalive_seconds, scope=scope, named=named),
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )
