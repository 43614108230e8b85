"""Steering directives: words like `emulate:tokens=5` in a request that tell the emulator what to do.

This is part of a development and test double, not Workers AI. Directives are whitespace-separated
words `emulate:KEY=VALUE` or `emulate:KEY` in the text of the last user message (or the `prompt`,
or the first embedding input). They are removed from any text the emulator echoes back.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_DIRECTIVE = re.compile(r"^emulate:([a-z_]+)(?:=(\S*))?$")

# Upper bound for any delay a directive may ask for (ms), so a typo cannot hang a test run for hours.
MAX_DELAY_MS = 600_000


@dataclass(frozen=True)
class Directives:
    """The parsed directives of one request; absent ones are None / False / empty."""

    echo: bool = False
    tokens: int | None = None
    error: int | None = None
    status: int | None = None
    times: int | None = None
    http: int | None = None
    delay_ms: int = 0
    token_delay_ms: int = 0
    break_after: int | None = None
    tools: tuple[str, ...] = ()
    args: dict[str, Any] | None = None
    stream_json: bool = False
    reasoning: bool = False
    json: bool = False
    tag: str | None = None
    unknown: tuple[str, ...] = field(default=())

    @property
    def fails(self) -> bool:
        return self.error is not None or self.http is not None


def is_directive(word: str) -> bool:
    return _DIRECTIVE.match(word) is not None


def strip_directives(text: str) -> str:
    """`text` without directive words, whitespace normalised to single spaces."""
    return " ".join(word for word in text.split() if not is_directive(word))


def _int(value: str | None, *, low: int = 0, high: int | None = None) -> int | None:
    if value is None or not re.fullmatch(r"-?\d+", value):
        return None
    number = max(low, int(value))
    return min(number, high) if high is not None else number


def _args(value: str | None) -> dict[str, Any] | None:
    try:
        parsed = json.loads(value or "")
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _pairs(text: str) -> list[tuple[str, str | None]]:
    pairs: list[tuple[str, str | None]] = []
    for word in text.split():
        match = _DIRECTIVE.match(word)
        if match:
            pairs.append((match.group(1), match.group(2)))
    return pairs


_FLAGS = {"echo", "stream_json", "reasoning", "json"}
_INTS = {"tokens", "error", "status", "times", "http", "break_after"}
_DELAYS = {"delay_ms", "token_delay_ms"}


def parse_directives(text: str) -> Directives:
    """Parse every directive word in `text`; later words win over earlier ones, tools accumulate."""
    values: dict[str, Any] = {}
    tools: list[str] = []
    unknown: list[str] = []
    for key, value in _pairs(text):
        if key in _FLAGS:
            values[key] = True
        elif key in _INTS:
            values[key] = _int(value)
        elif key in _DELAYS:
            values[key] = _int(value, high=MAX_DELAY_MS) or 0
        elif key == "tool":
            tools.extend(name for name in (value or "").split(",") if name)
        elif key == "args":
            values["args"] = _args(value)
        elif key == "tag":
            values["tag"] = value or None
        else:
            unknown.append(key)
    return Directives(**values, tools=tuple(tools), unknown=tuple(unknown))
