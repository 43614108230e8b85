"""Server-Sent Events from Workers AI, parsed incrementally.

Both stream dialects share the framing: `data: <json>` lines, a blank line between events, and a
final `data: [DONE]`. Comment lines and other fields are ignored; `p` padding is left for the
dialect parsers to ignore.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

DONE = object()


def iter_events(chunks: Iterable[bytes]) -> Iterator[Any]:
    """Yield each event's decoded JSON payload, then `DONE` if the stream said `[DONE]`."""
    buffer = b""
    data: list[bytes] = []
    for chunk in chunks:
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for raw in lines:
            line = raw.rstrip(b"\r")
            if line:
                if line.startswith(b"data:"):
                    data.append(line[5:].lstrip(b" "))
                continue
            if data:
                payload = b"\n".join(data)
                data = []
                if payload.strip() == b"[DONE]":
                    yield DONE
                    return
                yield _decode(payload)
    if buffer.rstrip(b"\r").startswith(b"data:"):
        data.append(buffer.rstrip(b"\r")[5:].lstrip(b" "))
    if data:
        payload = b"\n".join(data)
        if payload.strip() == b"[DONE]":
            yield DONE
            return
        yield _decode(payload)


def _decode(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        # A malformed event is dropped rather than ending the answer; the stream's end decides.
        return None
