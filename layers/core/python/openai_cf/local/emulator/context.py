"""What a task handler gets: the model, the validated body, its directives and the clock.

This is part of a development and test double, not Workers AI.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from openai_cf.workers_ai.catalog import ModelInfo

from .directives import Directives
from .journal import Visit


@dataclass(frozen=True)
class RunContext:
    info: ModelInfo
    body: dict[str, Any]
    directives: Directives
    now: Callable[[], float]
    visit: Visit | None = None


@dataclass(frozen=True)
class TaskHandler:
    """One task family: where its directives live in a body, and how to answer a run."""

    directive_text: Callable[[dict[str, Any]], str]
    run: Callable[[RunContext], Awaitable[Response]]
