"""The run executor's Lambda handler: SQS batches of run steps, with partial batch failures.

    SQS event → BatchProcessor → each record: RunTask → idempotent step (run id, version) → RunWorker.execute
                                 a record that raises is reported in `batchItemFailures`: it alone comes back

Powertools does the plumbing: partial batch responses (one failed record does not redeliver the
others), idempotency (a message delivered twice, or twice at once, does its step once; a step that
raised leaves no record, so its redelivery repeats it), JSON logs with the Lambda context, and EMF
metrics (runs by status, run latency, upstream errors). Everything is built on the first event,
never at import (`handler`), or from given services (`make_handler`: `serve` and the tests).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

from openai_cf.api.logs import configure_logging
from openai_cf.executor.idempotency import KEY_PREFIX, RunStepRecords
from openai_cf.ids import timestamp_ms
from openai_cf.services.container import Services, build_services
from openai_cf.services.run_worker import RunWorker, StepReport
from openai_cf.settings import get_settings
from openai_cf.storage.aws import AwsClients
from openai_cf.storage.run_queue import RunTask
from openai_cf.storage.runs import FINAL

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
SERVICE = "run_executor"
NAMESPACE = "openai-cf"
# A step's idempotency record outlives any redelivery (the queue retries for hours at most).
IDEMPOTENCY_SECONDS = 6 * 3600
_GAVE_UP = "The run's step failed on every delivery of its queue message."

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


class Executor:
    def __init__(
        self, worker: RunWorker, records: RunStepRecords, *, max_receives: int = 5,
        clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self._worker = worker
        self._max_receives = max_receives
        self._clock = clock
        self._config = IdempotencyConfig(
            event_key_jmespath="[run_id, version]", expires_after_seconds=IDEMPOTENCY_SECONDS,
            raise_on_no_idempotency_key=True,
        )  # fmt: skip
        self._step: Callable[..., dict[str, Any]] = idempotent_function(
            self._execute, data_keyword_argument="task", persistence_store=records, config=self._config,
            key_prefix=KEY_PREFIX,
        )  # fmt: skip
        # A batch whose every record failed is reported as such, not raised: with a batch size of one
        # (infra), every failed step would otherwise count as a failed invocation.
        self._processor = BatchProcessor(EventType.SQS, raise_on_entire_batch_failure=False)

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        # In-progress idempotency records expire with the invocation, so a step whose executor died
        # can be taken up again by the redelivery that follows.
        self._config.register_lambda_context(context)
        answer = process_partial_response(
            event=event, record_handler=self._record, processor=self._processor, context=context
        )
        return dict(answer)

    def _record(self, record: SQSRecord) -> dict[str, Any]:
        task = RunTask.model_validate_json(record.body)
        try:
            return self._step(task=task.model_dump())
        except Exception:
            if int(record.attributes.approximate_receive_count or 0) < self._max_receives:
                raise  # the queue delivers it again
            # The last delivery: the message goes to the dead-letter queue, the run fails now.
            logger.exception("run step failed on its last delivery", extra={"run_id": task.run_id})
            with contextlib.suppress(Exception):
                self._observe(StepReport(self._worker.give_up(task, _GAVE_UP), worked=True))
            raise

    def _execute(self, task: dict[str, Any]) -> dict[str, Any]:
        report = self._worker.execute(RunTask.model_validate(task))
        self._observe(report)
        return {"run_id": task["run_id"], "version": task["version"], "status": report.status}

    def _observe(self, report: StepReport) -> None:
        """Structure only: ids, statuses, codes and times (never prompts or answers)."""
        run = report.run
        logger.info(
            "run step",
            extra={"run_id": run.id if run else None, "status": report.status, "worked": report.worked,
                   "upstream_error": report.upstream_error},
        )  # fmt: skip
        if not report.worked or run is None:
            return
        metrics.add_dimension(name="status", value=report.status)
        metrics.add_metric(name="Runs", unit=MetricUnit.Count, value=1)
        if report.status in FINAL:
            latency = self._clock() * 1000 - timestamp_ms(run.id, "run_")
            metrics.add_metric(name="RunLatency", unit=MetricUnit.Milliseconds, value=max(0.0, latency))
        if report.upstream_error:
            metrics.add_metadata(key="upstream_error", value=report.upstream_error)
            metrics.add_metric(name="UpstreamErrors", unit=MetricUnit.Count, value=1)
        metrics.flush_metrics()
        # A flush clears only what it printed: with metrics disabled (`serve`) the next run's
        # dimension would meet this one's.
        metrics.clear_metrics()


def make_handler(services: Services) -> Handler:
    """The Lambda handler for these services (one executor, built now)."""
    settings = services.settings
    dynamodb = AwsClients(region=settings.aws_region, endpoint_url=settings.aws_endpoint_url).client("dynamodb")
    records = RunStepRecords(settings.table_name, dynamodb)
    return wrap(Executor(services.run_worker, records, max_receives=settings.run_max_receives))


def wrap(executor: Executor) -> Handler:
    """`executor` as a Lambda handler: logs carry the invocation's context."""

    @logger.inject_lambda_context(clear_state=True)
    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return executor(event, context)

    return handle


@cache
def _default_handler() -> Handler:
    configure_logging(os.environ.get("LOG_LEVEL") or "INFO")
    return make_handler(build_services(get_settings()))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point: services from the environment (and the secret), built on first use."""
    return _default_handler()(event, context)
