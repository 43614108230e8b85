"""The run status machine's writes, shared by the runs API and the run executor.

    queued ──► in_progress ──► completed | incomplete | failed
       │            │ └──────► requires_action ──(submit_tool_outputs)──► queued
       │            └── cancel ──► cancelling ──► cancelled
       └── cancel ──► cancelled            any active run past expires_at ──► expired

Every move is `RunRepository.transition` (conditional on the run's version); a move into a final
status stamps its time, settles a tool-calls step still waiting for outputs, and releases the
thread's active-run marker. Whoever loses a race gets `ConditionFailed` and reads the run again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from openai_cf import errors as e
from openai_cf.storage.run_steps import StepRepository
from openai_cf.storage.runs import FINAL, RunRecord, RunRepository
from openai_cf.storage.table import Operation

# The timestamp each final status sets, on the run and on a step it settles.
_RUN_STAMP = {"completed": "completed_at", "failed": "failed_at", "cancelled": "cancelled_at"}
_STEP_STAMP = {"cancelled": "cancelled_at", "expired": "expired_at", "failed": "failed_at"}


def run_not_found(run_id: str) -> e.NotFoundError:
    return e.NotFoundError(f"No run found with id '{run_id}'.", param="run_id")


class RunLedger:
    def __init__(self, runs: RunRepository, steps: StepRepository, clock: Callable[[], float] = time.time) -> None:
        self.runs = runs
        self.steps = steps
        self.clock = clock

    def move(
        self, run: RunRecord, status: str, changes: dict[str, Any] | None = None, also: Sequence[Operation] = ()
    ) -> RunRecord:
        """`run` → `status`, with `changes` and the writes in `also`; `ConditionFailed` if it moved first."""
        values = {"status": status, **(changes or {})}
        if status in _RUN_STAMP:
            values.setdefault(_RUN_STAMP[status], int(self.clock()))
        writes = list(also)
        if status in FINAL and run.pending_step_id:
            values.update(required_action=None, pending_step_id=None)
            writes += self._settle_pending_step(run, status)
        moved = self.runs.transition(run, values, also=writes)
        if status in FINAL:
            self.runs.release(run.thread_id, run.id)
        return moved

    def cancel(self, run: RunRecord) -> RunRecord:
        return self.move(run, "cancelled")

    def expire(self, run: RunRecord) -> RunRecord:
        return self.move(run, "expired")

    def fail(self, run: RunRecord, code: str, message: str) -> RunRecord:
        return self.move(run, "failed", {"last_error": {"code": code, "message": message}})

    def _settle_pending_step(self, run: RunRecord, status: str) -> list[Operation]:
        step = self.steps.get(run.id, run.pending_step_id or "")
        if step is None or step.status != "in_progress":
            return []
        step_status = status if status in _STEP_STAMP else "cancelled"
        changes = {"status": step_status, _STEP_STAMP[step_status]: int(self.clock())}
        update, _ = self.steps.update(step, changes)
        return [update]
