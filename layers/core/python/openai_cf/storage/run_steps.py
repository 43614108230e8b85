"""Run step records: the `<run_id>#step` collection, listed by step id.

A step is written by the run's executor together with the run's transition, in one transaction
(`put`, `update` give the operations), under an id derived from the run and its step, so a step
that is written twice (a redelivered queue message) is refused the second time instead of doubled.
Step details, errors, usage and metadata are stored as JSON text (`storage.documents`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from openai_cf.schemas.runs import RunStep
from openai_cf.storage.documents import from_text, to_text
from openai_cf.storage.pages import Page, PageRequest
from openai_cf.storage.table import MAX_ITEM_BYTES, Put, Table, Update, item_bytes

_DOCUMENTS = frozenset({"step_details", "last_error", "metadata", "usage"})
# Steps read per Query while a run's steps are listed whole or removed.
STEP_PAGE = 100


def in_run(run_id: str) -> str:
    return f"{run_id}#step"


@dataclass(frozen=True)
class StepRecord:
    id: str
    owner: str
    thread_id: str
    run_id: str
    assistant_id: str
    created_at: int
    type: str
    status: str
    # The wire shape: {"type": "message_creation", "message_creation": {"message_id"}} or
    # {"type": "tool_calls", "tool_calls": [{"id", "type": "function", "function": {…, "output"}}]}.
    step_details: dict[str, Any]
    last_error: dict[str, Any] | None = None
    expired_at: int | None = None
    cancelled_at: int | None = None
    failed_at: int | None = None
    completed_at: int | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    # {"prompt_tokens", "completion_tokens"} of the chat call the step made.
    usage: dict[str, int] | None = None

    def to_wire(self) -> RunStep:
        usage = self.usage if self.status != "in_progress" else None
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("owner", "usage")}
        return RunStep.model_validate({**values, "usage": usage_wire(usage)})


def usage_wire(usage: dict[str, int] | None) -> dict[str, int] | None:
    if usage is None:
        return None
    return {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]}


def _attributes(values: dict[str, Any]) -> dict[str, Any]:
    return {name: to_text(value) if name in _DOCUMENTS else value for name, value in values.items()}


def _item(record: StepRecord) -> dict[str, Any]:
    return {"pk": in_run(record.run_id), "sk": record.id,
            **_attributes({f.name: getattr(record, f.name) for f in fields(record)})}  # fmt: skip


def _record(item: dict[str, Any]) -> StepRecord:
    values = {f.name: item.get(f.name) for f in fields(StepRecord)}
    return StepRecord(**{**values, **{name: from_text(item[name]) for name in _DOCUMENTS}})


class StepRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    @staticmethod
    def put(record: StepRecord) -> Put:
        """The write of a new step, for the transaction that moves its run (never overwrites)."""
        return Put(_item(record), only_if_new=True)

    @staticmethod
    def update(record: StepRecord, changes: dict[str, Any]) -> tuple[Update, StepRecord]:
        """The write that changes a step (for a run's transaction), and the step as it will be."""
        return Update(in_run(record.run_id), record.id, _attributes(changes)), replace(record, **changes)

    @staticmethod
    def fits(record: StepRecord) -> bool:
        return item_bytes(_item(record)) <= MAX_ITEM_BYTES

    def get(self, run_id: str, step_id: str) -> StepRecord | None:
        item = self._table.get(in_run(run_id), step_id)
        return _record(item) if item else None

    def page(self, run_id: str, page: PageRequest) -> Page[StepRecord]:
        return self._table.query_page(in_run(run_id), page, _record)

    def all(self, run_id: str) -> list[StepRecord]:
        """Every step of a run, oldest first (a page of 100 per Query)."""
        found: list[StepRecord] = []
        after: str | None = None
        while True:
            page = self._table.query_page(in_run(run_id), PageRequest(STEP_PAGE, "asc", after), _record)
            found += page.items
            if not page.has_more:
                return found
            after = page.items[-1].id

    def remove_all(self, run_id: str) -> int:
        steps = self.all(run_id)
        self._table.delete_many([(in_run(run_id), step.id) for step in steps])
        return len(steps)
