"""Powertools idempotency records in our one table, on its key rule (docs/storage.md).

Powertools' DynamoDB layer puts every record under one static partition key when the table has a
sort key; here each record is its own collection instead (`pk = sk = idempotency#run_step#<hash>`,
the hash of the message's run id and version), which spreads them as threads are spread. The
records' expiry is the table's TTL attribute, so DynamoDB removes them.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

KEY_PREFIX = "idempotency#run_step"
TTL_ATTRIBUTE = "ttl"


class RunStepRecords(DynamoDBPersistenceLayer):
    def __init__(self, table_name: str, client: Any) -> None:
        # `key_attr` is the attribute Powertools reads the key back from and conditions on; with
        # `_get_key` below both key attributes hold it.
        super().__init__(table_name=table_name, key_attr="sk", expiry_attr=TTL_ATTRIBUTE, boto3_client=client)

    def _get_key(self, idempotency_key: str) -> dict[str, Any]:
        return {"pk": {"S": idempotency_key}, "sk": {"S": idempotency_key}}
