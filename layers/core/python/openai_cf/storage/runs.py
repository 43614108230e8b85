"""Run records: the `<thread_id>#run` collection, listed by run id, and the thread's active-run marker.

Every run item carries `version`, and every change of state is a conditional update on it
(`transition`), so of two writers that read the same run (two deliveries of one queue message, an
executor and a cancel) exactly one moves it; the other gets `ConditionFailed` and reads again.

The thread item carries `active_run_id` and `active_run_expires_at` while a run is active: creating
a run sets them on the condition that no other run holds them (or the one that does has expired),
which is what makes a second run on a busy thread a 400. A run that ends releases them
(`release`), conditionally, in a write of its own after its final transition: a crash in between
leaves a marker naming a finished run, which the next run's creation recognises and clears.

Client-shaped values (tools, formats, metadata, errors) are stored as JSON text (`storage.documents`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from openai_cf.schemas.assistants import FunctionTool
from openai_cf.schemas.runs import Run
from openai_cf.storage.documents import from_text, to_text
from openai_cf.storage.pages import Page, PageRequest
from openai_cf.storage.run_steps import StepRepository, usage_wire
from openai_cf.storage.table import ConditionFailed, Operation, Put, Table, Update
from openai_cf.storage.threads import thread_key

FINAL = frozenset({"cancelled", "failed", "completed", "incomplete", "expired"})
_DOCUMENTS = frozenset({
    "tools", "metadata", "truncation_strategy", "tool_choice", "response_format", "required_action", "last_error",
    "incomplete_details", "usage",
})  # fmt: skip
# Runs read per Query while a deleted thread's runs are removed.
PURGE_PAGE = 100


def in_thread(thread_id: str) -> str:
    return f"{thread_id}#run"


@dataclass(frozen=True)
class RunRecord:
    id: str
    owner: str
    thread_id: str
    assistant_id: str
    created_at: int
    status: str
    model: str
    instructions: str
    expires_at: int
    # Function tools as chat takes them, and the other settings as the Run object shows them.
    tools: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    temperature: float | None = None
    top_p: float | None = None
    reasoning_effort: str | None = None
    max_prompt_tokens: int | None = None
    max_completion_tokens: int | None = None
    truncation_strategy: dict[str, Any] = field(default_factory=lambda: {"type": "auto", "last_messages": None})
    tool_choice: str | dict[str, Any] = "auto"
    parallel_tool_calls: bool = True
    response_format: str | dict[str, Any] = "auto"
    started_at: int | None = None
    cancelled_at: int | None = None
    failed_at: int | None = None
    completed_at: int | None = None
    required_action: dict[str, Any] | None = None
    last_error: dict[str, Any] | None = None
    incomplete_details: dict[str, Any] | None = None
    # {"prompt_tokens", "completion_tokens"} summed over the run's steps so far.
    usage: dict[str, int] | None = None
    # Not OpenAI's: the version every transition moves on; when the current step began (in ms: the
    # ids it writes derive from it); the tool-calls step awaiting outputs.
    version: int = 1
    step_started_ms: int | None = None
    pending_step_id: str | None = None

    def status_at(self, now: float) -> str:
        """The status a client sees: an active run read at or after `expires_at` has expired, whether
        or not an executor has written so yet (its queue message may be gone for good)."""
        return "expired" if self.status not in FINAL and now >= self.expires_at else self.status

    def to_wire(self, now: float) -> Run:
        status = self.status_at(now)
        final = status in FINAL
        values = {name: getattr(self, name) for name in Run.model_fields if name in _WIRE_FIELDS}
        return Run.model_validate({
            **values, "status": status, "expires_at": None if final else self.expires_at,
            "required_action": self.required_action if status == "requires_action" else None,
            "usage": usage_wire(self.usage) if final else None,
            "tools": [FunctionTool.model_validate(tool) for tool in self.tools],
        })  # fmt: skip


_WIRE_FIELDS = frozenset(f.name for f in fields(RunRecord)) - {"owner", "reasoning_effort", "version"}


def _attributes(values: dict[str, Any]) -> dict[str, Any]:
    return {name: to_text(value) if name in _DOCUMENTS else value for name, value in values.items()}


def _item(record: RunRecord) -> dict[str, Any]:
    return {"pk": in_thread(record.thread_id), "sk": record.id,
            **_attributes({f.name: getattr(record, f.name) for f in fields(record)})}  # fmt: skip


def _record(item: dict[str, Any]) -> RunRecord:
    values = {f.name: item[f.name] for f in fields(RunRecord) if f.name in item}
    return RunRecord(**{**values, **{name: from_text(item[name]) for name in _DOCUMENTS}})


class RunRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def add(self, record: RunRecord, *, now: float) -> None:
        """Store a new run and make it its thread's active run; `ConditionFailed` if the thread is
        gone or another run is active on it."""
        claim = Update(
            *thread_key(record.thread_id), {"active_run_id": record.id, "active_run_expires_at": record.expires_at},
            condition="attribute_not_exists(active_run_id) OR active_run_expires_at <= :now",
            condition_values={":now": int(now)},
        )  # fmt: skip
        self._table.transact([Put(_item(record), only_if_new=True), claim])

    def active_run_id(self, thread_id: str) -> str | None:
        item = self._table.get(*thread_key(thread_id))
        return item.get("active_run_id") if item else None

    def release(self, thread_id: str, run_id: str) -> None:
        """Clear the thread's marker if it still names this run (else leave it: another run's)."""
        with contextlib.suppress(ConditionFailed):
            self._table.update(
                *thread_key(thread_id), {}, condition="active_run_id = :run", condition_values={":run": run_id},
                remove=("active_run_id", "active_run_expires_at"),
            )  # fmt: skip

    def get(self, thread_id: str, run_id: str) -> RunRecord | None:
        item = self._table.get(in_thread(thread_id), run_id)
        return _record(item) if item else None

    def page(self, thread_id: str, page: PageRequest) -> Page[RunRecord]:
        return self._table.query_page(in_thread(thread_id), page, _record)

    def transition(self, record: RunRecord, changes: dict[str, Any], *, also: Sequence[Operation] = ()) -> RunRecord:
        """Apply `changes` (and the writes in `also`, all or nothing) if the run is still at the
        version it was read at; the run as it now is. `ConditionFailed` if anything moved first."""
        moved = replace(record, **changes, version=record.version + 1)
        values = _attributes({**changes, "version": moved.version})
        update = Update(
            in_thread(record.thread_id), record.id, values, condition="#v = :v",
            condition_values={":v": record.version}, names={"#v": "version"},
        )  # fmt: skip
        self._table.transact([update, *also])
        return moved

    def update_metadata(self, record: RunRecord, metadata: dict[str, str]) -> RunRecord | None:
        """Metadata is no state: it changes without a version, so it never races a transition."""
        try:
            self._table.update(in_thread(record.thread_id), record.id, _attributes({"metadata": metadata}))
        except ConditionFailed:
            return None
        return replace(record, metadata=metadata)

    def remove_all(self, thread_id: str) -> int:
        """Delete every run of a thread and their steps, a page at a time; how many runs there were."""
        steps = StepRepository(self._table)
        removed = 0
        while True:
            found = self._table.query_page(in_thread(thread_id), PageRequest(PURGE_PAGE, "asc"), _record)
            for run in found.items:
                steps.remove_all(run.id)
            self._table.delete_many([(in_thread(thread_id), run.id) for run in found.items])
            removed += len(found.items)
            if not found.has_more:
                return removed
