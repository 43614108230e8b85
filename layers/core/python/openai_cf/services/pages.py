"""A list request as a storage page request, and a storage page as the SDK's `CursorPage`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from openai_cf.schemas.pagination import CursorPage, ListParams
from openai_cf.storage.pages import Page, PageRequest


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


R = TypeVar("R")
W = TypeVar("W", bound=_Identified)


def page_request(params: ListParams) -> PageRequest:
    return PageRequest(limit=params.limit, order=params.order, after=params.after, before=params.before)


def cursor_page(page: Page[R], to_wire: Callable[[R], W]) -> CursorPage[W]:
    data = [to_wire(record) for record in page.items]
    # `Any` at run time: pydantic then serialises each item as what it is (a TypeVar would not).
    return CursorPage[Any](
        data=data,
        first_id=data[0].id if data else None,
        last_id=data[-1].id if data else None,
        has_more=page.has_more,
    )
