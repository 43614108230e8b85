"""The run queue: one SQS message per step of a run's work, consumed by the run executor.

Encrypted (SQS-managed keys) and TLS-only, with a dead-letter queue that takes a message after
`RUN_QUEUE_MAX_RECEIVES` deliveries. `bind_sender` gives a function the queue's URL and
`sqs:SendMessage` on this queue only (the runs function); `bind_consumer` makes the queue a
function's event source, with partial batch responses (the run executor); `bind_dead_letter_consumer`
does the same with the dead-letter queue (the function that fails the runs whose messages land
there). Each consumer gets SqsEventSource's consume grant on its own queue only (receive, delete,
change visibility, get attributes and URL: a little more than Lambda's poller needs, all on one queue).
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants


class RunQueue(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=constants.RUN_DLQ_RETENTION,
            visibility_timeout=constants.RUN_DLQ_VISIBILITY,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=constants.RUN_QUEUE_VISIBILITY,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letters, max_receive_count=constants.RUN_QUEUE_MAX_RECEIVES
            ),
        )

    def bind_sender(self, function: lambda_.Function) -> None:
        """The queue's URL, and permission to send to it (nothing else)."""
        function.add_environment(constants.RUN_QUEUE_URL_ENV, self.queue.queue_url)
        function.add_to_role_policy(iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.queue.queue_arn]))

    def bind_consumer(self, function: lambda_.Function) -> None:
        """Deliver the queue's messages to `function`, which reports failed records alone."""
        function.add_event_source(
            sources.SqsEventSource(
                self.queue, batch_size=constants.EXECUTOR_BATCH_SIZE, report_batch_item_failures=True
            )
        )

    def bind_dead_letter_consumer(self, function: lambda_.Function) -> None:
        """Deliver the dead-letter queue's messages to `function`, which reports failed records alone
        (they come back after the queue's visibility timeout, until its retention ends)."""
        function.add_event_source(
            sources.SqsEventSource(
                self.dead_letters, batch_size=constants.DEAD_LETTERS_BATCH_SIZE, report_batch_item_failures=True
            )
        )
