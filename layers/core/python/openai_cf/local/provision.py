"""Create the table, bucket and run queue `serve` needs where they are missing (moto, LocalStack,
DynamoDB Local).

On AWS the CDK stack creates them; this mirrors its key schema, and the queue's dead-letter queue
and redrive policy, so the same code runs on both. Idempotent: an endpoint that already has them
(state kept across restarts) is left as it is.
"""

from __future__ import annotations

import json
from typing import Any

from openai_cf.settings import Settings
from openai_cf.storage.aws import AwsClients


def provision(settings: Settings) -> str:
    """Create what is missing; the run queue's URL."""
    clients = AwsClients(region=settings.aws_region, endpoint_url=settings.aws_endpoint_url)
    _table(clients.client("dynamodb"), settings.table_name)
    _bucket(clients.client("s3"), settings.bucket_name)
    return _queue(clients.client("sqs"), settings)


def _queue(sqs: Any, settings: Settings) -> str:
    """The run queue and its dead-letter queue (`<name>-dlq`), SSE on, as deployed."""
    name = settings.run_queue_name
    found = sqs.list_queues(QueueNamePrefix=name).get("QueueUrls", [])
    existing = [url for url in found if url.rsplit("/", 1)[-1] == name]
    if existing:
        return str(existing[0])
    encrypted = {"SqsManagedSseEnabled": "true"}
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq", Attributes=encrypted)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(settings.run_max_receives)})
    attributes = {**encrypted, "RedrivePolicy": redrive, "VisibilityTimeout": str(settings.local_visibility_timeout)}
    return str(sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])


def _table(dynamodb: Any, name: str) -> None:
    if name in dynamodb.list_tables().get("TableNames", []):
        return
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )
    dynamodb.get_waiter("table_exists").wait(TableName=name)
    dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})


def _bucket(s3: Any, name: str) -> None:
    existing = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
    if name in existing:
        return
    s3.create_bucket(Bucket=name)
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
        },
    )  # fmt: skip
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
