"""The run queue's dead-letter handler: a run whose message went to the dead-letter queue ends.

    run queue ──(5 failed deliveries)──► dead-letter queue ──► this handler ──► run `failed`

The executor already fails a run when its message's last delivery fails (`handler.Executor`). What
it cannot cover ends here: a last delivery whose executor died (timeout, out of memory) or whose
own write of `failed` did not land. Without this, such a run would stay `queued` or `in_progress`
in the table until its `expires_at`, and its thread's active-run marker with it.

Every move goes through the run ledger's conditional writes, as the executor's do, and only a run
the message still stands for is touched:

    missing, or already final                          nothing (a redelivery here finds this)
    past its expires_at                                `expired` (what clients already see)
    cancelling                                         `cancelled` (the dead step would have)
    queued at the message's version, or in_progress    `failed`, last_error server_error
      one version on (its step began and died)
    anything else (requires_action, a later step)      nothing: the run is in other hands

A write that loses a race reads the run again; a record that cannot be settled (storage failing)
is reported in `batchItemFailures` and comes back after the queue's visibility timeout.
Powertools does the plumbing as in the executor: partial batch responses, JSON logs, EMF metrics.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from openai_cf import errors as e
from openai_cf.api.logs import configure_logging
from openai_cf.services.container import build_services
from openai_cf.services.run_ledger import RunLedger
from openai_cf.settings import get_settings
from openai_cf.storage.run_queue import RunTask
from openai_cf.storage.runs import FINAL, RunRecord
from openai_cf.storage.table import ConditionFailed

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
SERVICE = "run_dead_letters"
NAMESPACE = "openai-cf"
# The message clients read in the run's `last_error`.
GAVE_UP = "The run could not be executed: its work was retried until the queue gave up on it."
# Reads and conditional writes per record before it is left for the queue to deliver again.
_ATTEMPTS = 5

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def _owned(run: RunRecord, task: RunTask) -> bool:
    """Whether the message still stands for the run's work: not yet taken, or taken and dead."""
    return (run.status == "queued" and run.version == task.version) or (
        run.status == "in_progress" and run.version == task.version + 1
    )


class DeadLetters:
    def __init__(self, ledger: RunLedger, *, clock: Callable[[], float] | None = None) -> None:
        self._ledger = ledger
        # The ledger's clock by default: the one its writes stamp times with.
        self._clock = clock or ledger.clock
        self._processor = BatchProcessor(EventType.SQS, raise_on_entire_batch_failure=False)

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        answer = process_partial_response(
            event=event, record_handler=self._record, processor=self._processor, context=context
        )
        return dict(answer)

    def _record(self, record: SQSRecord) -> str:
        task = RunTask.model_validate_json(record.body)
        outcome = self.settle(task)
        # Ids, statuses and counts only.
        logger.info(
            "dead-lettered run message",
            extra={"run_id": task.run_id, "thread_id": task.thread_id, "version": task.version, "outcome": outcome,
                   "receive_count": record.attributes.approximate_receive_count},
        )  # fmt: skip
        metrics.add_dimension(name="outcome", value=outcome)
        metrics.add_metric(name="DeadLetteredRuns", unit=MetricUnit.Count, value=1)
        metrics.flush_metrics()
        metrics.clear_metrics()  # with metrics disabled (`serve`) a flush would leave the dimension
        return outcome

    def settle(self, task: RunTask) -> str:
        """End the run `task` stands for, if it still does; what happened (`failed`, `cancelled`,
        `expired`, `final`, `missing` or `stale`)."""
        runs = self._ledger.runs
        for _ in range(_ATTEMPTS):
            run = runs.get(task.thread_id, task.run_id)
            if run is None:
                return "missing"
            if run.status in FINAL:
                return "final"
            try:
                if run.status_at(self._clock()) == "expired":
                    self._ledger.expire(run)
                    return "expired"
                if run.status == "cancelling":
                    self._ledger.cancel(run)
                    return "cancelled"
                if not _owned(run, task):
                    return "stale"
                self._ledger.fail(run, "server_error", GAVE_UP)
                return "failed"
            except ConditionFailed:
                continue  # moved meanwhile (a cancel, a late executor): what it is now decides
        raise e.ServiceUnavailableError("The run kept changing; its dead letter is left for another delivery.")


def make_handler(ledger: RunLedger) -> Handler:
    """The Lambda handler for this ledger; logs carry the invocation's context."""
    dead_letters = DeadLetters(ledger)

    @logger.inject_lambda_context(clear_state=True)
    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return dead_letters(event, context)

    return handle


@cache
def _default_handler() -> Handler:
    configure_logging(os.environ.get("LOG_LEVEL") or "INFO")
    return make_handler(build_services(get_settings()).run_ledger)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point: the table from the environment, built on first use."""
    return _default_handler()(event, context)
