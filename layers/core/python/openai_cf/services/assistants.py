"""Assistants: stored configurations a run reads (model, instructions, tools, sampling).

The model is checked against the model registry when it is set, so a typo is a 404
`model_not_found` at once, as at OpenAI, rather than a failed run later. The name the client gave
(an alias such as `gpt-4o`) is what is stored and shown; a run resolves it again when it runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from openai_cf import errors as e
from openai_cf.ids import new_id
from openai_cf.schemas.assistants import (
    Assistant,
    AssistantCreateParams,
    AssistantDeleted,
    AssistantListParams,
    AssistantUpdateParams,
)
from openai_cf.schemas.pagination import CursorPage
from openai_cf.services.assistant_tools import stored_response_format, stored_tool_resources, stored_tools
from openai_cf.services.pages import cursor_page, page_request
from openai_cf.storage.assistants import AssistantRecord, AssistantRepository
from openai_cf.workers_ai.catalog import TEXT_GENERATION


class ModelResolver(Protocol):
    """The model registry, as far as assistants need it (`services.models.ModelRegistry`)."""

    def resolve(self, requested: str, *, task: str) -> object: ...


def not_found(assistant_id: str) -> e.NotFoundError:
    return e.NotFoundError(f"No assistant found with id '{assistant_id}'.", param="assistant_id")


def too_large() -> e.InvalidRequestError:
    return e.InvalidRequestError(
        "The assistant is too large to store: its instructions, tools and other fields together must fit in 350 KB.",
        param="instructions",
        code="string_above_max_length",
    )


def _metadata(value: dict[str, str] | None) -> dict[str, str]:
    return value or {}


# How each request field becomes a record field (the others are stored as sent).
_STORED: dict[str, Callable[[Any], Any]] = {
    "tools": stored_tools,
    "tool_resources": stored_tool_resources,
    "metadata": _metadata,
    "response_format": stored_response_format,
}


def _changes(params: AssistantUpdateParams) -> dict[str, Any]:
    """The record fields a (partial) update sets: only those the request sent."""
    sent = params.model_fields_set - ({"model"} if params.model is None else set())
    return {name: _STORED.get(name, lambda value: value)(getattr(params, name)) for name in sent}


class AssistantsService:
    def __init__(
        self, assistants: AssistantRepository, models: ModelResolver, clock: Callable[[], float] = time.time
    ) -> None:
        self._assistants = assistants
        self._models = models
        self._clock = clock

    def create(self, params: AssistantCreateParams, *, owner: str) -> Assistant:
        self._models.resolve(params.model, task=TEXT_GENERATION)
        now = self._clock()
        record = AssistantRecord(
            id=new_id("asst_", now_ms=int(now * 1000)), owner=owner, created_at=int(now), model=params.model,
            name=params.name, description=params.description, instructions=params.instructions,
            tools=stored_tools(params.tools), tool_resources=stored_tool_resources(params.tool_resources),
            metadata=_metadata(params.metadata), temperature=params.temperature, top_p=params.top_p,
            response_format=stored_response_format(params.response_format), reasoning_effort=params.reasoning_effort,
        )  # fmt: skip
        if not self._assistants.fits(record):
            raise too_large()
        self._assistants.add(record)
        return record.to_wire()

    def retrieve(self, assistant_id: str) -> Assistant:
        return self._record(assistant_id).to_wire()

    def update(self, assistant_id: str, params: AssistantUpdateParams) -> Assistant:
        changes = _changes(params)
        if "model" in changes:
            self._models.resolve(changes["model"], task=TEXT_GENERATION)
        current = self._record(assistant_id)
        if not self._assistants.fits(replace(current, **changes)):
            raise too_large()
        updated = self._assistants.update(assistant_id, changes)
        if updated is None:
            raise not_found(assistant_id)
        return updated.to_wire()

    def list(self, params: AssistantListParams) -> CursorPage[Assistant]:
        return cursor_page(self._assistants.page(page_request(params)), AssistantRecord.to_wire)

    def delete(self, assistant_id: str) -> AssistantDeleted:
        if not self._assistants.remove(assistant_id):
            raise not_found(assistant_id)
        return AssistantDeleted(id=assistant_id)

    def _record(self, assistant_id: str) -> AssistantRecord:
        record = self._assistants.get(assistant_id)
        if record is None:
            raise not_found(assistant_id)
        return record
