"""Runs: create (on a thread, or with a new one), retrieve, list, update metadata, cancel, and
submit tool outputs. The work itself happens in the run executor (`services.run_worker`), fed by
the run queue: this service writes a run `queued` and sends a message for it. A streaming run is
started here the same way (`start`, `start_with_thread`, `accept_tool_outputs`) and then worked on
inline instead (`services.run_streams`), which sends its message only if its client leaves first
(`hand_over`).

Order of writes on create: the run and its claim on the thread (one transaction: a busy thread is a
400 and nothing is written), then `additional_messages`, then the queue message. If anything after
the claim fails, the run is marked `failed` so that it never waits for a message that never came.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from openai_cf import errors as e
from openai_cf.ids import new_id
from openai_cf.schemas import runs as r
from openai_cf.schemas.pagination import CursorPage
from openai_cf.schemas.threads import Thread, ThreadCreateParams
from openai_cf.services.assistant_tools import stored_tool_resources
from openai_cf.services.assistants import ModelResolver
from openai_cf.services.assistants import not_found as assistant_not_found
from openai_cf.services.messages import MessageBuilder, thread_not_found
from openai_cf.services.pages import cursor_page, page_request
from openai_cf.services.run_ledger import RunLedger, run_not_found
from openai_cf.services.run_plans import RunStart, plan_run
from openai_cf.services.threads import ThreadsService
from openai_cf.services.tool_outputs import answered_step
from openai_cf.storage.assistants import AssistantRecord, AssistantRepository
from openai_cf.storage.messages import MessageRepository
from openai_cf.storage.run_queue import RunQueue, RunTask
from openai_cf.storage.run_steps import StepRecord
from openai_cf.storage.runs import FINAL, RunRecord
from openai_cf.storage.table import ConditionFailed
from openai_cf.storage.threads import ThreadRepository
from openai_cf.workers_ai.catalog import TEXT_GENERATION

# Attempts at a write that lost a race (another writer moved the run): each reads the run again.
_ATTEMPTS = 3


def _busy() -> e.ServiceUnavailableError:
    return e.ServiceUnavailableError("The run changed while it was being updated; retry shortly.", retry_after=1)


@dataclass(frozen=True)
class RunsConfig:
    # None when the deployment has no run queue: runs are then refused (500) before anything is written.
    queue: RunQueue | None
    expires_seconds: int = 600


class RunsService:
    def __init__(
        self, ledger: RunLedger, threads: ThreadRepository, assistants: AssistantRepository,
        messages: MessageRepository, builder: MessageBuilder, thread_service: ThreadsService, models: ModelResolver,
        config: RunsConfig, clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self._ledger = ledger
        self._runs = ledger.runs
        self._threads = threads
        self._assistants = assistants
        self._messages = messages
        self._builder = builder
        self._thread_service = thread_service
        self._models = models
        self._config = config
        self._clock = clock

    # -- create -------------------------------------------------------------------------------
    def create(self, thread_id: str, params: r.RunCreateParams, *, owner: str) -> r.Run:
        return self._queued(self.start(thread_id, params, owner=owner))

    def create_and_run(self, params: r.ThreadCreateAndRunParams, *, owner: str) -> r.Run:
        return self._queued(self.start_with_thread(params, owner=owner)[1])

    def start(self, thread_id: str, params: r.RunCreateParams, *, owner: str) -> RunRecord:
        """The run, `queued` and holding its thread, with `additional_messages` written: the caller
        queues it (`enqueue`) or works on it inline."""
        self._queue()
        self._thread(thread_id)
        assistant = self._assistant(params.assistant_id)
        messages = self._builder.records(
            thread_id, params.additional_messages or [], owner=owner, param="additional_messages"
        )
        run = self._plan(params, assistant, thread_id, owner)
        self._claim(run)
        try:
            self._messages.add_all(messages)
        except e.OpenAICFError:
            self._give_up(run)
            raise
        return run

    def start_with_thread(self, params: r.ThreadCreateAndRunParams, *, owner: str) -> tuple[Thread, RunRecord]:
        """A new thread and its run, `queued` (as `start`)."""
        self._queue()
        # Everything that can be refused is checked (the run planned once) before the thread exists;
        # the run itself is made after it, so that it and its answer sort after the thread's messages.
        assistant = self._assistant(params.assistant_id)
        stored_tool_resources(params.tool_resources)
        self._plan(params, assistant, "", owner)
        thread = self._thread_service.create(params.thread or ThreadCreateParams(), owner=owner)
        run = self._plan(params, assistant, thread.id, owner)
        self._claim(run)
        return thread, run

    def _plan(
        self, params: r.RunCreateParams | r.ThreadCreateAndRunParams, assistant: AssistantRecord, thread_id: str,
        owner: str,
    ) -> RunRecord:  # fmt: skip
        now = self._clock()
        start = RunStart(new_id("run_", now_ms=int(now * 1000)), thread_id, owner, now, self._config.expires_seconds)
        run = plan_run(params, assistant, start)
        self._models.resolve(run.model, task=TEXT_GENERATION)
        return run

    def _claim(self, run: RunRecord) -> None:
        """Store the run as its thread's active run; a 400 if another run is active there."""
        for _ in range(_ATTEMPTS):
            try:
                self._runs.add(run, now=self._clock())
                return
            except ConditionFailed:
                self._thread(run.thread_id)
                active_id = self._runs.active_run_id(run.thread_id)
                active = self._runs.get(run.thread_id, active_id) if active_id else None
                if active is not None and active.status not in FINAL:
                    raise e.InvalidRequestError(
                        f"Thread {run.thread_id} already has an active run {active.id}.", param="thread_id"
                    ) from None
                if active_id:
                    # A marker a finished run left behind (its executor stopped before releasing it).
                    self._runs.release(run.thread_id, active_id)
        raise _busy()

    def _queue(self) -> RunQueue:
        if self._config.queue is None:
            raise _no_queue()
        return self._config.queue

    def enqueue(self, run: RunRecord, version: int | None = None) -> None:
        """Send the run's queue message (for `version`, by default the run's own); a run whose
        message cannot be sent fails at once."""
        task = RunTask(thread_id=run.thread_id, run_id=run.id, version=run.version if version is None else version)
        try:
            self._queue().send(task)
        except e.OpenAICFError:
            self._give_up(run)
            raise

    def hand_over(self, thread_id: str, run_id: str) -> None:
        """A streaming run whose client left before it ended goes to the run executor, which ends
        it as it ends a queued run: a step begun inline is repeated from its start, as after a
        crash (`RunWorker`: in progress one version on)."""
        run = self._runs.get(thread_id, run_id)
        if run is None or run.status_at(self._clock()) in FINAL:
            return
        if run.status == "in_progress":
            self.enqueue(run, run.version - 1)
        elif run.status in ("queued", "cancelling"):
            self.enqueue(run)
        # requires_action: it waits for its outputs, as it would have had the client stayed.

    def _queued(self, run: RunRecord) -> r.Run:
        self.enqueue(run)
        return run.to_wire(self._clock())

    def _give_up(self, run: RunRecord) -> None:
        """A run whose queue message could not be sent fails at once instead of waiting forever.
        (If storage is what failed, this may fail too: the run then expires at `expires_at`.)"""
        with contextlib.suppress(ConditionFailed, e.OpenAICFError):
            self._ledger.fail(run, "server_error", "The run could not be queued.")

    # -- read and update ----------------------------------------------------------------------
    def retrieve(self, thread_id: str, run_id: str) -> r.Run:
        return self._run(thread_id, run_id).to_wire(self._clock())

    def list(self, thread_id: str, params: r.RunListParams) -> CursorPage[r.Run]:
        self._thread(thread_id)
        now = self._clock()
        return cursor_page(self._runs.page(thread_id, page_request(params)), lambda run: run.to_wire(now))

    def update(self, thread_id: str, run_id: str, params: r.RunUpdateParams) -> r.Run:
        run = self._run(thread_id, run_id)
        if "metadata" in params.model_fields_set:
            updated = self._runs.update_metadata(run, params.metadata or {})
            if updated is None:
                raise run_not_found(run_id)
            run = updated
        return run.to_wire(self._clock())

    # -- cancel and tool outputs --------------------------------------------------------------
    def cancel(self, thread_id: str, run_id: str) -> r.Run:
        for _ in range(_ATTEMPTS):
            run = self._run(thread_id, run_id)
            status = run.status_at(self._clock())
            if status in FINAL:
                raise e.InvalidRequestError(f"Cannot cancel run with status '{status}'.", param="run_id")
            try:
                if status in ("queued", "requires_action"):
                    # Nothing is working on it: it is cancelled at once (a queued message finds it so).
                    return self._ledger.cancel(run).to_wire(self._clock())
                if status == "in_progress":
                    # Its executor notices, abandons the model call and writes `cancelled`.
                    return self._ledger.move(run, "cancelling").to_wire(self._clock())
                return run.to_wire(self._clock())
            except ConditionFailed:
                continue
        raise _busy()

    def submit_tool_outputs(self, thread_id: str, run_id: str, params: r.RunSubmitToolOutputsParams) -> r.Run:
        return self._queued(self.accept_tool_outputs(thread_id, run_id, params)[0])

    def accept_tool_outputs(
        self, thread_id: str, run_id: str, params: r.RunSubmitToolOutputsParams
    ) -> tuple[RunRecord, StepRecord]:
        """The outputs stored on their step and the run back to `queued`, in one transaction: the
        run (which the caller queues or works on inline), and the step, completed."""
        run = self._run(thread_id, run_id)
        status = run.status_at(self._clock())
        step = self._ledger.steps.get(run.id, run.pending_step_id or "") if status == "requires_action" else None
        if step is None:
            raise e.InvalidRequestError(f'Runs in status "{status}" do not accept tool outputs.', param="run_id")
        update, answered = answered_step(self._ledger.steps, step, params.tool_outputs, now=int(self._clock()))
        try:
            moved = self._ledger.move(run, "queued", {"required_action": None, "pending_step_id": None}, [update])
        except ConditionFailed:
            now_status = self._run(thread_id, run_id).status_at(self._clock())
            raise e.InvalidRequestError(
                f'Runs in status "{now_status}" do not accept tool outputs.', param="run_id"
            ) from None
        return moved, answered

    # -- lookups ------------------------------------------------------------------------------
    def _thread(self, thread_id: str) -> None:
        if self._threads.get(thread_id) is None:
            raise thread_not_found(thread_id)

    def _assistant(self, assistant_id: str) -> AssistantRecord:
        record = self._assistants.get(assistant_id)
        if record is None:
            raise assistant_not_found(assistant_id)
        return record

    def _run(self, thread_id: str, run_id: str) -> RunRecord:
        self._thread(thread_id)
        run = self._runs.get(thread_id, run_id)
        if run is None:
            raise run_not_found(run_id)
        return run


def _no_queue() -> e.InternalServerError:
    return e.InternalServerError(
        "Runs are not configured: the run queue is unknown (OPENAI_CF_RUN_QUEUE_URL is unset).",
        code="runs_not_configured", should_retry=False,
    )  # fmt: skip
