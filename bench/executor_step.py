"""The run executor's handler timed in a process of its own, as Lambda runs it (possibly under a CPU quota).

Run `python -c PROGRAM <count>` in `functions/run_executor/` with the executor's environment and
`bench` on PYTHONPATH: it times `import handler` (the function's init), then takes `count` messages
from the run queue one at a time and hands each to `handler.handler` as the SQS event Lambda would
send (batch size 1, as deployed), timing each invocation's wall and CPU time (all threads). The
first invocation builds the services (boto3 clients, Powertools): the cold one. Prints JSON.

This module imports only the standard library at the top: it is imported after the handler.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

PROGRAM = (
    "import time; t0 = time.perf_counter(); c0 = time.process_time(); import handler; "
    "t1 = time.perf_counter(); c1 = time.process_time(); import sys; from bench.executor_step import finish; "
    "finish(int(sys.argv[1]), t1 - t0, c1 - c0)"
)
RECEIVE_WAIT_SECONDS = 10


def _receive_one(sqs: Any, queue_url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=RECEIVE_WAIT_SECONDS,
            VisibilityTimeout=900, AttributeNames=["All"], MessageAttributeNames=["All"],
        ).get("Messages", [])  # fmt: skip
        if messages:
            message: dict[str, Any] = messages[0]
            return message
    raise RuntimeError("no run step arrived on the queue within 60 s")


def finish(count: int, import_seconds: float, import_cpu: float) -> None:
    handler = sys.modules["handler"].handler
    from openai_cf.local.poller import LocalContext, sqs_event
    from openai_cf.storage.aws import AwsClients

    queue_url = os.environ["OPENAI_CF_RUN_QUEUE_URL"]
    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    sqs = AwsClients(region=region, endpoint_url=os.environ.get("AWS_ENDPOINT_URL")).client("sqs")
    arn = f"arn:aws:sqs:{region}:000000000000:{queue_url.rsplit('/', 1)[-1]}"
    steps = []
    for _ in range(count):
        message = _receive_one(sqs, queue_url)
        event = sqs_event([message], arn, region)
        started, cpu = time.perf_counter(), time.process_time()
        answer = handler(event, LocalContext()) or {}
        steps.append({"wall": time.perf_counter() - started, "cpu": time.process_time() - cpu})
        if answer.get("batchItemFailures"):
            raise RuntimeError(f"the executor failed its step: {answer}")
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    print(json.dumps({"import": import_seconds, "import_cpu": import_cpu, "steps": steps}))
