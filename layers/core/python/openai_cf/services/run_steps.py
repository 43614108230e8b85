"""Run steps: list and retrieve, under their thread and run (both must exist).

A step still waiting for tool outputs when its run expired shows `expired`, as the run does,
though no executor may have written so (`RunRecord.status_at`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from openai_cf import errors as e
from openai_cf.schemas.pagination import CursorPage
from openai_cf.schemas.runs import RunStep, RunStepListParams
from openai_cf.services.messages import thread_not_found
from openai_cf.services.pages import cursor_page, page_request
from openai_cf.services.run_ledger import run_not_found
from openai_cf.storage.run_steps import StepRecord, StepRepository
from openai_cf.storage.runs import RunRecord, RunRepository
from openai_cf.storage.threads import ThreadRepository


def step_not_found(step_id: str) -> e.NotFoundError:
    return e.NotFoundError(f"No run step found with id '{step_id}'.", param="step_id")


class RunStepsService:
    def __init__(
        self, threads: ThreadRepository, runs: RunRepository, steps: StepRepository,
        clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self._threads = threads
        self._runs = runs
        self._steps = steps
        self._clock = clock

    def list(self, thread_id: str, run_id: str, params: RunStepListParams) -> CursorPage[RunStep]:
        run = self._run(thread_id, run_id)
        now = self._clock()
        return cursor_page(self._steps.page(run_id, page_request(params)), lambda step: _seen(step, run, now))

    def retrieve(self, thread_id: str, run_id: str, step_id: str) -> RunStep:
        run = self._run(thread_id, run_id)
        step = self._steps.get(run_id, step_id)
        if step is None:
            raise step_not_found(step_id)
        return _seen(step, run, self._clock())

    def _run(self, thread_id: str, run_id: str) -> RunRecord:
        if self._threads.get(thread_id) is None:
            raise thread_not_found(thread_id)
        run = self._runs.get(thread_id, run_id)
        if run is None:
            raise run_not_found(run_id)
        return run


def _seen(step: StepRecord, run: RunRecord, now: float) -> RunStep:
    if step.status == "in_progress" and run.status != "expired" and run.status_at(now) == "expired":
        step = replace(step, status="expired", expired_at=run.expires_at)
    return step.to_wire()
