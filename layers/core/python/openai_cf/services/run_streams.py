"""Streaming runs (`stream: true` on create, create-and-run and submit_tool_outputs).

The run starts as a queued one does (`RunsService`: checks, the claim on the thread, the writes;
a 400 or 404 comes before any byte of the stream), but instead of a queue message it is worked on
inline, in the request, by the run executor's own step (`RunWorker`), which tells an `EventWriter`
what it does. The client reads the events as they come:

    thread.created (create-and-run) · thread.run.created · thread.run.queued   (or, after tool outputs:
    thread.run.step.completed · thread.run.queued) · thread.run.in_progress · the step's events ·
    thread.run.completed | requires_action | incomplete | failed | cancelled | expired · done

- A client that leaves before the run ends stops the model call at once (the request's cancel
  scope) and hands the run to the run executor (`RunsService.hand_over`), which repeats the step
  from its start, as after a crash, and ends the run as it ends a queued one (OpenAI, too, goes on
  with a run whose stream was dropped).
- A failure after the first byte that the step did not turn into the run's status (storage)
  fails the run, told as `thread.run.failed`; if not even that can be written, the stream ends with
  `event: error`, and the run reads `expired` from its `expires_at`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from openai_cf import cancel
from openai_cf import errors as e
from openai_cf.metrics import count_upstream
from openai_cf.schemas import runs as r
from openai_cf.schemas.streams import ServerEvent
from openai_cf.services.run_events import Emit, EventWriter
from openai_cf.services.run_ledger import RunLedger
from openai_cf.services.run_worker import RunWorker
from openai_cf.services.runs import RunsService
from openai_cf.storage.run_queue import RunTask
from openai_cf.storage.runs import FINAL, RunRecord
from openai_cf.storage.table import ConditionFailed

logger = logging.getLogger(__name__)


class RunStreams:
    def __init__(
        self, runs: RunsService, ledger: RunLedger, worker: RunWorker, clock: Callable[[], float] = time.time
    ) -> None:
        self._runs = runs
        self._ledger = ledger
        self._worker = worker
        self._clock = clock

    def create(self, thread_id: str, params: r.RunCreateParams, *, owner: str) -> Iterator[ServerEvent]:
        run = self._runs.start(thread_id, params, owner=owner)
        return self._stream(run, self._created(run))

    def create_and_run(self, params: r.ThreadCreateAndRunParams, *, owner: str) -> Iterator[ServerEvent]:
        thread, run = self._runs.start_with_thread(params, owner=owner)
        return self._stream(run, [ServerEvent("thread.created", thread), *self._created(run)])

    def submit_tool_outputs(
        self, thread_id: str, run_id: str, params: r.RunSubmitToolOutputsParams
    ) -> Iterator[ServerEvent]:
        run, step = self._runs.accept_tool_outputs(thread_id, run_id, params)
        queued = ServerEvent("thread.run.queued", run.to_wire(self._clock()))
        return self._stream(run, [ServerEvent("thread.run.step.completed", step.to_wire()), queued])

    def _created(self, run: RunRecord) -> list[ServerEvent]:
        wire = run.to_wire(self._clock())
        return [ServerEvent("thread.run.created", wire), ServerEvent("thread.run.queued", wire)]

    def _stream(self, run: RunRecord, opening: list[ServerEvent]) -> Iterator[ServerEvent]:
        """The events: `opening`, then the run's work's, which begins with the first read."""
        yield from opening
        yield from _pushed(lambda emit: self._work(run, emit), name=f"stream-{run.id}")

    def _work(self, run: RunRecord, emit: Emit) -> None:
        events = EventWriter(emit, self._clock)
        task = RunTask(thread_id=run.thread_id, run_id=run.id, version=run.version)
        try:
            report = self._worker.with_events(events).execute(task)
        except Exception as exc:
            if _client_gone():
                self._hand_over(run)
            else:
                self._fail(run, events, exc)
            return
        if report.upstream_error:
            # The model call failed and the run says so (`thread.run.failed`): the HTTP answer is a 200
            # stream, so the API's error counting never sees it; counted here, as the executor does.
            count_upstream(None, report.upstream_error)
        if report.run is None:
            raise e.NotFoundError(f"No run found with id '{run.id}': its thread was deleted.", param="run_id")
        events.ended(report.run)

    def _hand_over(self, run: RunRecord) -> None:
        try:
            self._runs.hand_over(run.thread_id, run.id)
        except e.OpenAICFError:
            # Nobody is left to tell: the run reads `expired` from its `expires_at`.
            logger.warning("streaming run not handed over", extra={"run_id": run.id})

    def _fail(self, run: RunRecord, events: EventWriter, exc: Exception) -> None:
        """The step broke off (storage trouble, never the model's failures, which it handles):
        fail the run and say so, else let `exc` end the stream (`event: error`)."""
        if not isinstance(exc, e.OpenAICFError):
            logger.error("streaming run failed", exc_info=exc, extra={"run_id": run.id})
        message = exc.message if isinstance(exc, e.OpenAICFError) else "The run's step failed."
        try:
            current = self._ledger.runs.get(run.thread_id, run.id)
            if current is not None and current.status not in FINAL:
                current = self._ledger.fail(current, "server_error", message)
        except (ConditionFailed, e.OpenAICFError):
            raise exc from None
        if current is None:
            raise exc
        events.ended(current)


def _client_gone() -> bool:
    scope = cancel.current()
    return scope is not None and scope.cancelled


@dataclass(frozen=True)
class _Failed:
    error: BaseException


_END = object()


def _pushed(work: Callable[[Emit], None], *, name: str) -> Iterator[ServerEvent]:
    """What `work` emits, as it comes. `work` pushes (the run's step reports as it goes) while a
    stream is read, so it runs in a thread of its own, under the reader's cancel scope."""
    channel: queue.SimpleQueue[object] = queue.SimpleQueue()
    scope = cancel.current()

    def run() -> None:
        try:
            cancel.run_in(scope, work, channel.put)
        except BaseException as exc:  # handed to the reader, whose stream reports it
            channel.put(_Failed(exc))
        finally:
            channel.put(_END)

    threading.Thread(target=run, name=name, daemon=True).start()
    while True:
        item = channel.get()
        if item is _END:
            return
        if isinstance(item, _Failed):
            raise item.error
        assert isinstance(item, ServerEvent)
        yield item
