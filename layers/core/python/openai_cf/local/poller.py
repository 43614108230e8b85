"""Feed SQS messages to a Lambda handler, as Lambda's SQS event source mapping does on AWS.

moto's own SQS → Lambda trigger would run nothing locally (aws-notes 5), so `serve` long-polls the
run queue itself and calls the run executor's handler with real SQS events, then deletes the
messages the handler did not report in `batchItemFailures`. A failed message stays in the queue
and comes back after the visibility timeout (short locally, so a run whose executor died resumes
within seconds).

Each invocation's context has the visibility timeout as its time limit, as a Lambda function's
timeout bounds its SQS messages' processing: the executor's in-progress idempotency records
expire with it, so the message of an executor that died is not held back any longer than that.

A second poller feeds the run queue's dead-letter queue (`dead_letter_queue_url`) to the
dead-letter handler, as the `run_dead_letters` function is fed on AWS: locally, too, a run whose
message the queue gave up on ends `failed` instead of waiting for its expiry.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], dict[str, Any] | None]


@dataclass
class LocalContext:
    """The parts of Lambda's context object that handlers and Powertools read."""

    function_name: str = "run_executor"
    memory_limit_in_mb: int = 1024
    timeout_seconds: float = 900.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:run_executor"
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """SQS `ReceiveMessage` results as the event Lambda hands a function."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def dead_letter_queue_url(sqs: Any, queue_url: str) -> str | None:
    """The URL of the queue's dead-letter queue, from its redrive policy (None: it has none)."""
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"]).get("Attributes", {})
    if not attributes.get("RedrivePolicy"):
        return None
    target_arn = json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"]
    return str(sqs.get_queue_url(QueueName=target_arn.rsplit(":", 1)[-1])["QueueUrl"])


class QueuePoller:
    def __init__(
        self, sqs: Any, queue_url: str, handler: Handler, *, visibility_timeout: int = 10,
        wait_seconds: int = 1, batch_size: int = 10, region: str = "us-east-1", function_name: str = "run_executor",
    ) -> None:  # fmt: skip
        self._sqs = sqs
        self._queue_url = queue_url
        self._handler = handler
        self._visibility_timeout = visibility_timeout
        self._wait_seconds = wait_seconds
        self._batch_size = batch_size
        self._region = region
        self._function_name = function_name
        self._arn = f"arn:aws:sqs:{region}:000000000000:{queue_url.rsplit('/', 1)[-1]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self) -> int:
        """Receive one batch, hand it to the handler, delete what succeeded; how many were received."""
        messages = self._sqs.receive_message(
            QueueUrl=self._queue_url, MaxNumberOfMessages=self._batch_size, WaitTimeSeconds=self._wait_seconds,
            VisibilityTimeout=self._visibility_timeout, AttributeNames=["All"], MessageAttributeNames=["All"],
        ).get("Messages", [])  # fmt: skip
        if not messages:
            return 0
        try:
            context = LocalContext(
                function_name=self._function_name, timeout_seconds=float(max(1, self._visibility_timeout)),
                invoked_function_arn=f"arn:aws:lambda:{self._region}:000000000000:function:{self._function_name}",
            )  # fmt: skip
            answer = self._handler(sqs_event(messages, self._arn, self._region), context) or {}
        except Exception:
            # Lambda would retry the whole batch: leave every message for its next delivery.
            logger.exception("%s failed on a batch", self._function_name)
            return len(messages)
        failed = {f.get("itemIdentifier") for f in answer.get("batchItemFailures", [])}
        for message in messages:
            if message["MessageId"] not in failed:
                self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def start(self) -> QueuePoller:
        self._thread = threading.Thread(target=self._run, name=f"queue-poller-{self._function_name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._wait_seconds + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                logger.exception("polling a queue for %s failed", self._function_name)
                self._stop.wait(1)
