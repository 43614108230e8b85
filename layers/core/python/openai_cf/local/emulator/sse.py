"""Server-sent events for emulated streams: encoding, per-event pacing, abrupt truncation.

This is part of a development and test double, not Workers AI. Each event is its own ASGI body
message, so uvicorn writes (and the kernel sends) it at once: nothing is batched.
"""

from __future__ import annotations

import asyncio
import json
import random
import string
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.responses import StreamingResponse

from .directives import Directives
from .journal import Visit


@dataclass(frozen=True)
class Event:
    """One SSE event. `data=None` is the `[DONE]` sentinel.

    `content` marks events that carry generated content (counted by `emulate:break_after`); `tail`
    marks the closing events (finish reason, usage, `[DONE]`) that a broken stream never sends.
    """

    data: dict[str, Any] | None
    content: bool = False
    tail: bool = False

    def encode(self) -> bytes:
        payload = "[DONE]" if self.data is None else json.dumps(self.data, separators=(",", ":"))
        return f"data: {payload}\n\n".encode()


DONE = Event(None, tail=True)

_PAD_ALPHABET = string.ascii_letters + string.digits


class Padding:
    """Workers AI's `p` field: random-looking padding of random length (seeded, so deterministic)."""

    def __init__(self, seed: bytes) -> None:
        self._rng = random.Random(seed)

    def next(self) -> str:
        return "".join(self._rng.choice(_PAD_ALPHABET) for _ in range(self._rng.randint(1, 24)))


def with_padding_events(events: Sequence[Event], padding: Padding, every: int = 5) -> list[Event]:
    """Insert a padding-only `{"p": …}` event after every `every`-th event (native dialect quirk)."""
    out: list[Event] = []
    for index, event in enumerate(events, start=1):
        out.append(event)
        if index % every == 0 and not event.tail:
            out.append(Event({"p": padding.next()}))
    return out


async def _paced(events: Sequence[Event], delay_ms: int, break_after: int | None) -> AsyncIterator[bytes]:
    sent_content = 0
    for index, event in enumerate(events):
        if break_after is not None and (event.tail or (event.content and sent_content >= break_after)):
            return  # end the body: the client sees EOF without usage or [DONE]
        if index and delay_ms:
            await asyncio.sleep(delay_ms / 1000)
        sent_content += event.content
        yield event.encode()


async def _journaled(body: AsyncIterator[bytes], visit: Visit) -> AsyncIterator[bytes]:
    """`body`, noting in `visit` how many events went out and whether the client left first."""
    abandoned = True
    try:
        async for chunk in body:
            yield chunk
            visit.events_sent += 1
        abandoned = False
    finally:
        visit.finish(abandoned=abandoned)


def sse_response(events: Sequence[Event], directives: Directives, visit: Visit | None = None) -> StreamingResponse:
    body = _paced(events, directives.token_delay_ms, directives.break_after)
    if visit is not None:
        body = _journaled(body, visit)
    headers = {"cache-control": "no-cache", "x-accel-buffering": "no"}
    return StreamingResponse(body, media_type="text/event-stream", headers=headers)
