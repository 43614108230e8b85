"""The one DynamoDB table: items as plain dicts, conditional writes, one Query per page.

Every item has `pk` (the collection it is listed in; an object that is never listed is its own
collection) and `sk` (its id), so getting an object is one GetItem and listing a collection is one
Query on `pk`, bounded by the cursor on `sk`. Reads are strongly consistent: a client that creates
a message and lists the thread at once must see it. botocore errors are translated here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from openai_cf import errors as e
from openai_cf.storage.aws import AwsClients
from openai_cf.storage.items import from_item, to_attr, to_item
from openai_cf.storage.pages import Page, PageRequest

T = TypeVar("T")

# A cap on how much one write may hold (DynamoDB's item limit is 400 KB).
MAX_ITEM_BYTES = 350_000
# BatchGetItem takes at most 100 keys; what it leaves unprocessed (throttling) is asked for again
# after a short, growing pause, a few times, before the read counts as busy storage.
_BATCH_KEYS = 100
_BATCH_RETRY_PAUSES = (0.05, 0.1, 0.2, 0.4, 0.8)


class ConditionFailed(Exception):
    """A conditional write found the item in another state (absent, present, or changed)."""


@dataclass(frozen=True)
class Check:
    """A condition one item must meet for a `write_together` to happen at all, e.g. "the upload
    is still pending" while a part is added. `names` and `values` fill the expression's `#n` and
    `:v` placeholders (needed for reserved words such as `status`)."""

    pk: str
    sk: str
    condition: str
    values: Mapping[str, Any] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return self.pk, self.sk

    def request(self) -> dict[str, Any]:
        request: dict[str, Any] = {"ConditionExpression": self.condition}
        if self.values:
            request["ExpressionAttributeValues"] = {k: to_attr(v) for k, v in self.values.items()}
        if self.names:
            request["ExpressionAttributeNames"] = dict(self.names)
        return request


_BUSY = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}


@contextmanager
def translated() -> Iterator[None]:
    """botocore's errors as ours: a failed condition for the caller to decide, anything else a 5xx."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ConditionalCheckFailedException":
            raise ConditionFailed from exc
        if code == "TransactionCanceledException" and "ConditionalCheckFailed" in str(exc):
            raise ConditionFailed from exc
        if code in _BUSY:
            raise e.ServiceUnavailableError("Storage is busy; retry shortly.", retry_after=1) from exc
        raise e.InternalServerError("The storage layer failed to answer.", code="storage_error") from exc
    except BotoCoreError as exc:
        raise e.InternalServerError("The storage layer could not be reached.", code="storage_error") from exc


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


class Table:
    def __init__(self, clients: AwsClients, name: str) -> None:
        self._clients = clients
        self.name = name

    @property
    def _db(self) -> Any:
        return self._clients.client("dynamodb")

    def put(self, item: dict[str, Any], *, only_if_new: bool = False) -> None:
        request: dict[str, Any] = {"TableName": self.name, "Item": to_item(item)}
        if only_if_new:
            request["ConditionExpression"] = "attribute_not_exists(pk)"
        with translated():
            self._db.put_item(**request)

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        with translated():
            found = self._db.get_item(TableName=self.name, Key=_key(pk, sk), ConsistentRead=True).get("Item")
        return from_item(found) if found else None

    def get_many(self, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
        """The items that exist among `keys`, in no particular order (strongly consistent reads,
        BatchGetItem: one call per 100 keys)."""
        unique = list(dict.fromkeys(keys))
        found: list[dict[str, Any]] = []
        for start in range(0, len(unique), _BATCH_KEYS):
            batch = [_key(pk, sk) for pk, sk in unique[start : start + _BATCH_KEYS]]
            found += self._batch_get({self.name: {"Keys": batch, "ConsistentRead": True}})
        return found

    def _batch_get(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for pause in (0.0, *_BATCH_RETRY_PAUSES):
            time.sleep(pause)
            with translated():
                result = self._db.batch_get_item(RequestItems=request)
            found += [from_item(item) for item in result.get("Responses", {}).get(self.name, [])]
            request = result.get("UnprocessedKeys") or {}
            if not request:
                return found
        raise e.ServiceUnavailableError("Storage is busy; retry shortly.", retry_after=1)

    def delete(self, pk: str, sk: str) -> dict[str, Any] | None:
        """Delete and return the item (None if there was none)."""
        with translated():
            old = self._db.delete_item(TableName=self.name, Key=_key(pk, sk), ReturnValues="ALL_OLD").get("Attributes")
        return from_item(old) if old else None

    def update(
        self, pk: str, sk: str, values: dict[str, Any], *, condition: str | None = None,
        condition_values: dict[str, Any] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Set `values` on an existing item (always) if `condition` holds; the item as it now is."""
        names = {f"#a{i}": name for i, name in enumerate(values)}
        attrs = {f":a{i}": to_attr(value) for i, value in enumerate(values.values())}
        attrs.update({k: to_attr(v) for k, v in (condition_values or {}).items()})
        expression = "SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(values)))
        checks = "attribute_exists(pk)" + (f" AND ({condition})" if condition else "")
        with translated():
            result = self._db.update_item(
                TableName=self.name, Key=_key(pk, sk), UpdateExpression=expression,
                ConditionExpression=checks, ExpressionAttributeNames=names,
                ExpressionAttributeValues=attrs, ReturnValues="ALL_NEW",
            )  # fmt: skip
        return from_item(result["Attributes"])

    def write_together(
        self, puts: Sequence[dict[str, Any]], deletes: Sequence[tuple[str, str]] = (), checks: Sequence[Check] = ()
    ) -> None:
        """Several puts and deletes that happen all or not at all (a TransactWriteItems), and only
        if every check holds (`ConditionFailed` otherwise). A check on an item that is also put
        becomes that put's condition: DynamoDB allows one operation per item in a transaction."""
        guards = {check.key: check for check in checks}
        ops: list[dict[str, Any]] = []
        for item in puts:
            put: dict[str, Any] = {"TableName": self.name, "Item": to_item(item)}
            guard = guards.pop((item["pk"], item["sk"]), None)
            ops.append({"Put": put | (guard.request() if guard else {})})
        ops += [{"Delete": {"TableName": self.name, "Key": _key(pk, sk)}} for pk, sk in deletes]
        ops += [
            {"ConditionCheck": {"TableName": self.name, "Key": _key(*check.key), **check.request()}}
            for check in guards.values()
        ]
        with translated():
            self._db.transact_write_items(TransactItems=ops)

    def query_page(self, pk: str, page: PageRequest, mapper: Callable[[dict[str, Any]], T]) -> Page[T]:
        """The page of collection `pk` that `page` asks for, mapped item by item: one Query, read on
        only where DynamoDB's 1 MB response cap cut it short of `limit + 1` items."""
        condition = "pk = :pk"
        values: dict[str, Any] = {":pk": {"S": pk}}
        bound = page.key_condition()
        if bound is not None:
            condition += f" AND sk {bound[0]} :cursor"
            values[":cursor"] = {"S": bound[1]}
        request: dict[str, Any] = {
            "TableName": self.name, "KeyConditionExpression": condition, "ExpressionAttributeValues": values,
            "ScanIndexForward": page.reads_forward, "ConsistentRead": True,
        }  # fmt: skip
        raw: list[dict[str, Any]] = []
        while len(raw) <= page.limit:
            with translated():
                result = self._db.query(**request, Limit=page.limit + 1 - len(raw))
            raw.extend(result.get("Items", []))
            if "LastEvaluatedKey" not in result:
                break
            request["ExclusiveStartKey"] = result["LastEvaluatedKey"]
        items = [from_item(item) for item in raw]
        has_more = len(items) > page.limit
        items = items[: page.limit]
        if page.reads_forward != (page.order == "asc"):
            items.reverse()
        return Page([mapper(item) for item in items], has_more)

    def query_all(self, pk: str, *, limit: int) -> list[dict[str, Any]]:
        """Every item of a small collection in id order (at most `limit`; more is a caller's bug)."""
        with translated():
            result = self._db.query(
                TableName=self.name, KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": pk}}, Limit=limit, ConsistentRead=True,
            )  # fmt: skip
        return [from_item(item) for item in result.get("Items", [])]
