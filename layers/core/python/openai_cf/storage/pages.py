"""Cursor pagination as OpenAI does it: `limit`, `order`, `after`, `before` over time-sortable ids.

Ids sort by creation time (`openai_cf.ids`), so "after this id in the current order" is a key
condition on the sort key: one Query per page, reading `limit + 1` items to learn `has_more`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

T = TypeVar("T")

Order = Literal["asc", "desc"]


@dataclass(frozen=True)
class PageRequest:
    limit: int = 20
    order: Order = "desc"
    after: str | None = None
    before: str | None = None

    def key_condition(self) -> tuple[str, str] | None:
        """(operator, id) bounding the sort key, or None for the first page."""
        if self.after is not None:
            return (">" if self.order == "asc" else "<"), self.after
        if self.before is not None:
            return ("<" if self.order == "asc" else ">"), self.before
        return None

    @property
    def reads_forward(self) -> bool:
        """Whether DynamoDB reads ascending: `before` pages are read from the cursor outwards."""
        forward = self.order == "asc"
        return not forward if self.before is not None and self.after is None else forward


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    has_more: bool
