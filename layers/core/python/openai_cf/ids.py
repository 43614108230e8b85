"""OpenAI-style identifiers on time-sortable values.

An id is ``<prefix><12 hex digits of milliseconds><12 random hex digits>``: ids made later sort
later as strings, so `after=<id>` pagination is a key condition on DynamoDB, never a scan.
"""

from __future__ import annotations

import secrets
import time


def new_id(prefix: str, *, now_ms: int | None = None) -> str:
    ms = now_ms if now_ms is not None else time.time_ns() // 1_000_000
    return f"{prefix}{ms:012x}{secrets.token_hex(6)}"


def new_ids(prefix: str, count: int, *, now_ms: int | None = None) -> list[str]:
    """`count` ids that sort in the order given, though made in the same millisecond (a thread's
    first messages): one random start, then consecutive values."""
    ms = now_ms if now_ms is not None else time.time_ns() // 1_000_000
    start = secrets.randbelow(2**47)  # leaves room to count up without wrapping past 12 hex digits
    return [f"{prefix}{ms:012x}{start + i:012x}" for i in range(count)]


def timestamp_ms(object_id: str, prefix: str) -> int:
    """When an id made by `new_id(prefix)` was made, in milliseconds since the epoch."""
    return int(object_id[len(prefix) : len(prefix) + 12], 16)
