"""Lists shaped as the SDK pages them (`SyncCursorPage`), and the query that asks for a page."""

from __future__ import annotations

from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class CursorPage(BaseModel, Generic[T]):
    object: Literal["list"] = "list"
    data: list[T]
    first_id: str | None
    last_id: str | None
    has_more: bool


class ListParams(BaseModel):
    """`?limit=&order=&after=&before=`; OpenAI's bounds (files allow a larger `limit`)."""

    model_config = {"extra": "forbid"}

    limit: int = Field(default=20, ge=1, le=100)
    order: Literal["asc", "desc"] = "desc"
    after: str | None = Field(default=None, min_length=1, max_length=128)
    before: str | None = Field(default=None, min_length=1, max_length=128)
