"""A fresh table in moto (in-process) for repository tests: `from tests.unit.moto_table import table`."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from moto import mock_aws

from openai_cf.local.provision import provision
from openai_cf.settings import Settings
from openai_cf.storage.aws import AwsClients
from openai_cf.storage.table import Table


@pytest.fixture
def table() -> Iterator[Table]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws():
        provision(Settings(aws_region="us-east-1", table_name="t", bucket_name="bucket-b"))
        yield Table(AwsClients(region="us-east-1"), "t")


def raw_items(table: Table) -> list[dict[str, object]]:
    """Every item of the table (a scan), to see exactly what was written."""
    from openai_cf.storage.items import from_item

    answer = table._clients.client("dynamodb").scan(TableName=table.name)
    return [from_item(item) for item in answer["Items"]]
