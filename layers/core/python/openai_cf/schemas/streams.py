"""A named server-sent event: one event of an Assistants stream (openai-python's
`AssistantStreamEvent`, `{"event": "thread.run.created", "data": Run}`).

Services yield these and the SSE writer (`api.sse`) frames them as `event:` / `data:` lines, so it
lives below both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ServerEvent:
    event: str
    # A wire model, or a plain dict for the delta objects (built once per token).
    data: Any
