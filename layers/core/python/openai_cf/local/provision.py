"""Create the table and bucket `serve` needs where they are missing (moto, LocalStack, DynamoDB Local).

On AWS the CDK stack creates them; this mirrors its key schema so the same code runs on both.
Idempotent: an endpoint that already has them (state kept across restarts) is left as it is.
"""

from __future__ import annotations

from typing import Any

from openai_cf.settings import Settings
from openai_cf.storage.aws import AwsClients


def provision(settings: Settings) -> None:
    clients = AwsClients(region=settings.aws_region, endpoint_url=settings.aws_endpoint_url)
    _table(clients.client("dynamodb"), settings.table_name)
    _bucket(clients.client("s3"), settings.bucket_name)


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
