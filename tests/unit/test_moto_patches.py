"""The local moto patch: transactions still roll back exactly, and no longer copy the whole table."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from openai_cf.local import moto_patches

TABLE = "patched"


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    import boto3

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    moto_patches.apply()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _items(client: Any) -> list[dict[str, Any]]:
    return sorted(client.scan(TableName=TABLE)["Items"], key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def test_a_cancelled_transaction_leaves_every_item_as_it_was(dynamodb: Any) -> None:
    # Given an item, and a transaction that changes it, adds one, deletes one, then fails a condition
    dynamodb.put_item(TableName=TABLE, Item={**_key("a", "1"), "n": {"N": "1"}})
    dynamodb.put_item(TableName=TABLE, Item={**_key("a", "2"), "n": {"N": "2"}})
    before = _items(dynamodb)
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": _key("a", "1"),
                        "UpdateExpression": "SET n = :n",
                        "ExpressionAttributeValues": {":n": {"N": "99"}},
                    }
                },
                {"Put": {"TableName": TABLE, "Item": {**_key("a", "3"), "n": {"N": "3"}}}},
                {"Delete": {"TableName": TABLE, "Key": _key("a", "2")}},
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": _key("zz", "0"),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    # Then nothing changed
    assert _items(dynamodb) == before


def test_a_successful_transaction_writes_every_item(dynamodb: Any) -> None:
    dynamodb.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": TABLE,
                    "Item": {**_key("b", "1"), "n": {"N": "1"}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {"Put": {"TableName": TABLE, "Item": {**_key("b", "2"), "n": {"N": "2"}}}},
        ]
    )
    assert [i["sk"]["S"] for i in _items(dynamodb)] == ["1", "2"]


def test_a_transaction_copies_the_items_it_touches_not_the_table(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a table of 500 items
    for n in range(500):
        dynamodb.put_item(TableName=TABLE, Item={**_key("many", f"{n:04d}"), "n": {"N": str(n)}})
    copied: list[int] = []
    real = copy.deepcopy

    def counting(value: Any, memo: Any = None) -> Any:
        copied.append(1)
        return real(value, memo)

    monkeypatch.setattr(copy, "deepcopy", counting)
    # When one item is written in a transaction
    dynamodb.transact_write_items(
        TransactItems=[{"Put": {"TableName": TABLE, "Item": {**_key("one", "1"), "n": {"N": "1"}}}}]
    )
    # Then a handful of objects were deep-copied, not 500 items (moto alone copies the whole table)
    assert len(copied) < 20
