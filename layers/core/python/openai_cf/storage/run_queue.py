"""The run queue (SQS): one message per step of work a run needs, read by the run executor.

A message names the run and the version the run had when it was queued. The version makes a
message about one step distinct from a message about the next (after tool outputs), and it is what
the executor's idempotency is keyed on: a redelivered message for a step that is done is a no-op.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from openai_cf.storage.aws import AwsClients
from openai_cf.storage.table import translated


class RunTask(BaseModel):
    """The body of a run queue message."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    thread_id: str
    run_id: str
    version: int


class RunQueue:
    def __init__(self, clients: AwsClients, queue_url: str) -> None:
        self._clients = clients
        self.url = queue_url

    @property
    def _sqs(self) -> Any:
        return self._clients.client("sqs")

    def send(self, task: RunTask) -> None:
        with translated():
            self._sqs.send_message(QueueUrl=self.url, MessageBody=task.model_dump_json())
