"""The local SQS poller: real SQS events to a handler, partial batch failures redelivered."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from openai_cf.local.poller import QueuePoller


@pytest.fixture
def sqs() -> Iterator[Any]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws():
        import boto3

        yield boto3.client("sqs", region_name="us-east-1")


def test_records_reach_the_handler_and_failures_come_back(sqs: Any) -> None:
    # Given a queue with three messages and a handler that fails the second
    url = sqs.create_queue(QueueName="runs")["QueueUrl"]
    for n in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}))
    seen: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        assert context.get_remaining_time_in_millis() > 0
        seen.extend(event["Records"])
        failed = [r["messageId"] for r in event["Records"] if json.loads(r["body"])["n"] == 1]
        return {"batchItemFailures": [{"itemIdentifier": m} for m in failed]}

    poller = QueuePoller(sqs, url, handler, visibility_timeout=0, wait_seconds=0)
    # When it polls until the queue is drained of what succeeds
    while poller.poll_once() and len(seen) < 5:
        pass
    # Then every record had the SQS event shape, and only the failed one was delivered again
    assert {r["eventSource"] for r in seen} == {"aws:sqs"}
    assert all(r["receiptHandle"] and r["attributes"]["ApproximateReceiveCount"] for r in seen)
    counts = [json.loads(r["body"])["n"] for r in seen]
    assert counts.count(0) == counts.count(2) == 1
    assert counts.count(1) >= 2


def test_a_crashing_handler_leaves_the_batch_in_the_queue(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="runs")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="{}")

    def crash(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("executor died")

    assert QueuePoller(sqs, url, crash, visibility_timeout=0, wait_seconds=0).poll_once() == 1
    again = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", [])
    assert len(again) == 1
