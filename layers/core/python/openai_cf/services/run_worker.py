"""One step of a run's work, for one queue message: what the run executor calls.

    task (run, version) → read the run →  queued at that version      → in_progress, then the step
                                          in_progress at version + 1  → the step again (the executor
                                                                          that began it died midway)
                                          cancelling                  → cancelled
                                          past expires_at             → expired
                                          anything else               → nothing (the message is stale)

The step: read the thread (truncated), ask the chat service, and write the outcome (`run_outcome`)
in one transaction with the run's move. Nothing is written before that transaction, so a crash
anywhere in the step leaves the run `in_progress` for the redelivered message to repeat; the
transaction itself, with its derived ids written `only_if_new`, can happen once only. During the
model call a `CancelWatch` abandons it when the run is cancelled or expires.

A streaming run (`services.run_streams`) is worked on by this same code, inline, with a live
`RunEvents` (`with_events`): the worker tells it every status it gives the run, asks the chat
service for a stream instead of a whole answer and shows it each chunk, and hands `Outcomes` the
answer rebuilt from the chunks (`ChunkCollector`), so the records and the transaction are a queued
run's. The model call runs in a child of the caller's cancel scope: a streaming client that leaves
stops it.

A failure of the model call or of the request built for it fails the run (`last_error`); a storage
failure propagates instead, so that the queue delivers the message again.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from openai_cf import cancel
from openai_cf import errors as e
from openai_cf.ids import timestamp_ms
from openai_cf.metrics import is_upstream
from openai_cf.schemas.chat import ChatCompletion, ChatCompletionCreateParams
from openai_cf.schemas.common import StreamOptions
from openai_cf.services.chat_chunks import ChunkCollector
from openai_cf.services.run_context import RunContext
from openai_cf.services.run_events import NO_EVENTS, RunEvents
from openai_cf.services.run_ledger import RunLedger
from openai_cf.services.run_outcome import Move, Outcomes, last_error, over_budget
from openai_cf.services.run_watch import CancelWatch
from openai_cf.storage.run_queue import RunTask
from openai_cf.storage.runs import FINAL, RunRecord
from openai_cf.storage.table import ConditionFailed
from openai_cf.storage.threads import ThreadRepository

logger = logging.getLogger(__name__)
_ATTEMPTS = 3


class ChatCompletions(Protocol):
    """The chat service, as far as runs need it (`services.chat.ChatService`)."""

    def create(self, params: ChatCompletionCreateParams) -> ChatCompletion: ...

    def stream(self, params: ChatCompletionCreateParams) -> Iterator[dict[str, Any]]: ...


@dataclass(frozen=True)
class StepReport:
    """What a message did: the run as it was left (None: gone), whether this delivery worked on it,
    and the upstream failure code if the model call failed."""

    run: RunRecord | None
    worked: bool = False
    upstream_error: str | None = None

    @property
    def status(self) -> str:
        return self.run.status if self.run else "gone"


class RunWorker:
    def __init__(
        self, ledger: RunLedger, threads: ThreadRepository, context: RunContext, outcomes: Outcomes,
        chat: ChatCompletions, *, check_seconds: float = 0.5, clock: Callable[[], float] = time.time,
        events: RunEvents = NO_EVENTS,
    ) -> None:  # fmt: skip
        self._ledger = ledger
        self._runs = ledger.runs
        self._threads = threads
        self._context = context
        self._outcomes = outcomes
        self._chat = chat
        self._check_seconds = check_seconds
        self._clock = clock
        self._events = events

    def with_events(self, events: RunEvents) -> RunWorker:
        """This worker, telling `events` what it does (a streaming run's worker)."""
        worker = copy.copy(self)
        worker._events = events
        return worker

    def execute(self, task: RunTask) -> StepReport:
        for _ in range(_ATTEMPTS):
            try:
                run, action = self._claim(task)
                if run is None or action != "work":
                    return StepReport(run, worked=action == "moved")
                return self._step(run)
            except ConditionFailed:
                continue  # another writer moved the run between our read and our write: read again
        raise e.ServiceUnavailableError("The run kept changing under the executor.", retry_after=1)

    def give_up(self, task: RunTask, reason: str) -> RunRecord | None:
        """Fail the run for good (its message's last delivery failed too): a run never waits for a
        message that went to the dead-letter queue. Best effort: storage may be what fails."""
        run = self._runs.get(task.thread_id, task.run_id)
        if run is None or run.status in FINAL:
            return run
        return self._ledger.fail(run, "server_error", reason)

    def _claim(self, task: RunTask) -> tuple[RunRecord | None, str]:
        """The run, and what this message does with it: `work` (the step), `moved` (it ended the
        run: expired or cancelled) or `none` (the message is stale)."""
        run = self._runs.get(task.thread_id, task.run_id)
        if run is None or run.status in FINAL:
            return run, "none"
        if run.status_at(self._clock()) == "expired":
            return self._moved(self._ledger.expire(run)), "moved"
        if run.status == "cancelling":
            return self._moved(self._ledger.cancel(run)), "moved"
        if run.status == "queued" and run.version == task.version:
            now = self._clock()
            # What the step writes sorts after everything before it, even within one millisecond.
            started_ms = max(int(now * 1000), timestamp_ms(run.id, "run_") + 1, (run.step_started_ms or 0) + 1)
            changes = {"started_at": run.started_at or int(now), "step_started_ms": started_ms}
            return self._moved(self._ledger.move(run, "in_progress", changes)), "work"
        # In progress one version on: the delivery that began this step died before ending it.
        resumed = run.status == "in_progress" and run.version == task.version + 1
        return run, "work" if resumed else "none"

    def _step(self, run: RunRecord) -> StepReport:
        spent = over_budget(run)
        if spent is not None:
            return self._worked(self._ledger.move(run, "incomplete", {"incomplete_details": {"reason": spent}}))
        history = self._context.history(run)
        try:
            params = self._context.chat_params(run, history)
        except (e.InvalidRequestError, e.NotFoundError, ValidationError) as exc:
            message = exc.message if isinstance(exc, e.OpenAICFError) else _first_error(exc)
            return self._worked(self._ledger.fail(run, "invalid_prompt", message))
        try:
            completion = self._generate(run, params)
        except cancel.Cancelled:
            return self._settle(run)
        except e.OpenAICFError as exc:
            error = last_error(exc)
            # Only Workers AI's own failures count as upstream errors (metrics), not requests it refused.
            upstream = (exc.code or error["code"]) if is_upstream(exc) else None
            return self._worked(self._ledger.fail(run, error["code"], error["message"]), upstream)
        try:
            move = self._outcomes.of(run, completion, now=self._clock())
        except e.InternalServerError as exc:
            # An answer too large to store: asking the model again would not make it smaller.
            return self._worked(self._ledger.fail(run, "server_error", exc.message))
        return self._finish(run, move)

    def _generate(self, run: RunRecord, params: ChatCompletionCreateParams) -> ChatCompletion:
        # A child of the caller's scope (a streaming run's request), if any: a client that leaves stops the call.
        parent = cancel.current()
        scope = parent.child() if parent is not None else cancel.CancelScope()
        with CancelWatch(self._runs, run, scope, interval=self._check_seconds, clock=self._clock):
            try:
                return cancel.run_in(scope, self._answer, run, params)
            except e.OpenAICFError:
                if scope.cancelled:
                    # A cancelled call can look like a torn upstream stream: it is a cancel all the same.
                    raise cancel.Cancelled from None
                raise

    def _answer(self, run: RunRecord, params: ChatCompletionCreateParams) -> ChatCompletion:
        if not self._events.streams:
            return self._chat.create(params)
        collector = ChunkCollector()
        chunks = self._chat.stream(
            params.model_copy(update={"stream": True, "stream_options": StreamOptions(include_usage=True)})
        )
        try:
            for chunk in chunks:
                collector.add(chunk)
                self._events.chunk(run, chunk)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        return collector.completion()

    def _finish(self, run: RunRecord, move: Move) -> StepReport:
        try:
            moved = self._ledger.move(run, move.status, move.changes, move.also)
        except ConditionFailed:
            # Cancelled, expired or deleted meanwhile: what it is now decides (and nothing was written).
            return self._settle(run)
        self._events.written(run, move)
        return self._worked(moved)

    def _moved(self, run: RunRecord) -> RunRecord:
        self._events.moved(run)
        return run

    def _worked(self, run: RunRecord, upstream_error: str | None = None) -> StepReport:
        """The report of a step that moved the run (told to the events)."""
        return StepReport(self._moved(run), True, upstream_error)

    def _settle(self, run: RunRecord) -> StepReport:
        """After the step lost its run (cancelled, expired, deleted, or moved on by another delivery
        of the same message): end what is ours to end, and nothing else."""
        current = self._runs.get(run.thread_id, run.id)
        if current is None or self._threads.get(run.thread_id) is None:
            return StepReport(None, True)
        if current.status in FINAL:
            return StepReport(current)
        if current.status_at(self._clock()) == "expired":
            return self._worked(self._ledger.expire(current))
        if current.status == "cancelling":
            self._moved(current)  # the cancel came from the API: a stream tells it before the end
            return self._worked(self._ledger.cancel(current))
        if current.version != run.version:
            return StepReport(current)
        raise e.ServiceUnavailableError("The run's step could not be written; it will be repeated.")


def _first_error(exc: ValidationError) -> str:
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"The thread cannot be sent to the model: {where}: {first['msg']}."
