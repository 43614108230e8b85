"""The local SQS poller: real SQS events to a handler, partial batch failures redelivered."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from openai_cf.local.poller import QueuePoller, dead_letter_queue_url
from openai_cf.storage.table import Table
from tests.unit.moto_table import table
from tests.unit.run_world import World

__all__ = ["table"]


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


def test_messages_the_queue_gave_up_on_reach_the_dead_letter_handler(sqs: Any) -> None:
    # Given a run queue whose redrive policy gives up after one failed delivery
    dlq = sqs.create_queue(QueueName="runs-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"})
    url = sqs.create_queue(QueueName="runs", Attributes={"RedrivePolicy": redrive})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody='{"n": 1}')

    def executor(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}

    dead: list[tuple[str, str]] = []

    def dead_letters(event: dict[str, Any], context: Any) -> dict[str, Any]:
        dead.extend((r["body"], context.function_name) for r in event["Records"])
        return {"batchItemFailures": []}

    # When the executor fails it (and the queue moves it on at its next receive)
    QueuePoller(sqs, url, executor, visibility_timeout=0, wait_seconds=0).poll_once()
    assert QueuePoller(sqs, url, executor, visibility_timeout=0, wait_seconds=0).poll_once() == 0
    # Then the dead-letter queue, found from the redrive policy, feeds the dead-letter handler
    assert dead_letter_queue_url(sqs, url) == dlq
    poller = QueuePoller(sqs, dlq, dead_letters, visibility_timeout=0, wait_seconds=0, function_name="run_dead_letters")
    assert poller.poll_once() == 1
    assert dead == [('{"n": 1}', "run_dead_letters")]
    # And what the handler settled is gone from the dead-letter queue
    assert sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=0).get("Messages", []) == []
    # A queue without a redrive policy has no dead-letter queue to poll
    assert dead_letter_queue_url(sqs, dlq) is None


def test_serve_fails_the_runs_whose_messages_went_to_the_dead_letter_queue(
    table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openai_cf.executor import dead_letters
    from openai_cf.local.cli import start_dead_letter_handler
    from openai_cf.settings import get_settings

    # Given `serve`'s environment (the moto table and queues `provision` made) and a queued run
    # whose message went to the dead-letter queue
    sqs = table._clients.client("sqs")
    url = sqs.get_queue_url(QueueName="openai-cf-runs")["QueueUrl"]
    environment = {
        "OPENAI_CF_TABLE": table.name, "OPENAI_CF_RUN_QUEUE_URL": url, "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_METRICS_DISABLED": "true", "OPENAI_CF_LOCAL_VISIBILITY_TIMEOUT": "1",
    }  # fmt: skip
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    world = World(table)
    world.clock.now = time.time()
    thread_id, run_id = world.start("Hi")
    dlq = dead_letter_queue_url(sqs, url)
    assert dlq is not None
    sqs.send_message(QueueUrl=dlq, MessageBody=world.queue.sent[0].model_dump_json())
    get_settings.cache_clear()
    dead_letters._default_handler.cache_clear()
    # When `serve` starts its dead-letter poller
    poller = start_dead_letter_handler(os.environ)
    assert poller is not None
    try:
        deadline = time.monotonic() + 15
        while world.run(thread_id, run_id).status == "queued" and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        poller.stop()
        get_settings.cache_clear()
        dead_letters._default_handler.cache_clear()
    # Then the run failed, as the deployed dead-letter function would have failed it
    run = world.run(thread_id, run_id)
    assert (run.status, (run.last_error or {}).get("code")) == ("failed", "server_error")
