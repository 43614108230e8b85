"""Run steps: list and retrieve, under their thread and run (both must exist)."""

from __future__ import annotations

from openai_cf import errors as e
from openai_cf.schemas.pagination import CursorPage
from openai_cf.schemas.runs import RunStep, RunStepListParams
from openai_cf.services.messages import thread_not_found
from openai_cf.services.pages import cursor_page, page_request
from openai_cf.services.run_ledger import run_not_found
from openai_cf.storage.run_steps import StepRecord, StepRepository
from openai_cf.storage.runs import RunRepository
from openai_cf.storage.threads import ThreadRepository


def step_not_found(step_id: str) -> e.NotFoundError:
    return e.NotFoundError(f"No run step found with id '{step_id}'.", param="step_id")


class RunStepsService:
    def __init__(self, threads: ThreadRepository, runs: RunRepository, steps: StepRepository) -> None:
        self._threads = threads
        self._runs = runs
        self._steps = steps

    def list(self, thread_id: str, run_id: str, params: RunStepListParams) -> CursorPage[RunStep]:
        self._run(thread_id, run_id)
        return cursor_page(self._steps.page(run_id, page_request(params)), StepRecord.to_wire)

    def retrieve(self, thread_id: str, run_id: str, step_id: str) -> RunStep:
        self._run(thread_id, run_id)
        step = self._steps.get(run_id, step_id)
        if step is None:
            raise step_not_found(step_id)
        return step.to_wire()

    def _run(self, thread_id: str, run_id: str) -> None:
        if self._threads.get(thread_id) is None:
            raise thread_not_found(thread_id)
        if self._runs.get(thread_id, run_id) is None:
            raise run_not_found(run_id)
