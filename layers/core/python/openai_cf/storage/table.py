"""The one DynamoDB table: items as plain dicts, conditional writes, one Query per page.

Every item has `pk` (the collection it is listed in; an object that is never listed is its own
collection) and `sk` (its id), so getting an object is one GetItem and listing a collection is one
Query on `pk`, bounded by the cursor on `sk`. Reads are strongly consistent: a client that creates
a message and lists the thread at once must see it. botocore errors are translated here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from openai_cf import errors as e
from openai_cf.storage.aws import AwsClients
from openai_cf.storage.items import from_item, to_item
from openai_cf.storage.pages import Page, PageRequest
from openai_cf.storage.writes import (
    MAX_ITEM_BYTES,
    Check,
    Delete,
    ItemTooLarge,
    Operation,
    Put,
    Update,
    check_sizes,
    item_bytes,
    transact_item,
    update_request,
)
from openai_cf.storage.writes import key as _key

__all__ = [
    "MAX_ITEM_BYTES", "Check", "ConditionFailed", "Delete", "ItemTooLarge", "Operation", "Put", "Table", "Update",
    "item_bytes", "translated",
]  # fmt: skip

T = TypeVar("T")

# BatchWriteItem takes at most 25 requests; unprocessed ones are sent again, a few times.
BATCH_WRITE = 25
BATCH_ATTEMPTS = 5
# BatchGetItem takes at most 100 keys; what it leaves unprocessed (throttling) is asked for again
# after a short, growing pause, a few times, before the read counts as busy storage.
_BATCH_KEYS = 100
_BATCH_RETRY_PAUSES = (0.05, 0.1, 0.2, 0.4, 0.8)


class ConditionFailed(Exception):
    """A conditional write found the item in another state (absent, present, or changed)."""


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
        # Two transactions on one item at once: the loser may simply try again.
        if code in _BUSY or (code == "TransactionCanceledException" and "TransactionConflict" in str(exc)):
            raise e.ServiceUnavailableError("Storage is busy; retry shortly.", retry_after=1) from exc
        raise e.InternalServerError("The storage layer failed to answer.", code="storage_error") from exc
    except BotoCoreError as exc:
        raise e.InternalServerError("The storage layer could not be reached.", code="storage_error") from exc


def _addressable(pk: str, sk: str) -> bool:
    """Whether DynamoDB could hold this key (pk ≤ 2,048 bytes, sk ≤ 1,024). Ids come from URLs: a
    longer one names nothing, and must be a 404 rather than DynamoDB's validation error."""
    return len(pk.encode("utf-8", "surrogatepass")) <= 2048 and len(sk.encode("utf-8", "surrogatepass")) <= 1024


class Table:
    def __init__(self, clients: AwsClients, name: str) -> None:
        self._clients = clients
        self.name = name

    @property
    def _db(self) -> Any:
        return self._clients.client("dynamodb")

    def put(self, item: dict[str, Any], *, only_if_new: bool = False) -> None:
        check_sizes([item])
        request: dict[str, Any] = {"TableName": self.name, "Item": to_item(item)}
        if only_if_new:
            request["ConditionExpression"] = "attribute_not_exists(pk)"
        with translated():
            self._db.put_item(**request)

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        if not _addressable(pk, sk):
            return None
        with translated():
            found = self._db.get_item(TableName=self.name, Key=_key(pk, sk), ConsistentRead=True).get("Item")
        return from_item(found) if found else None

    def get_many(self, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
        """The items that exist among `keys`, in no particular order (strongly consistent reads,
        BatchGetItem: one call per 100 keys)."""
        unique = [k for k in dict.fromkeys(keys) if _addressable(*k)]
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
        if not _addressable(pk, sk):
            return None
        with translated():
            old = self._db.delete_item(TableName=self.name, Key=_key(pk, sk), ReturnValues="ALL_OLD").get("Attributes")
        return from_item(old) if old else None

    def update(
        self, pk: str, sk: str, values: dict[str, Any], *, condition: str | None = None,
        condition_values: dict[str, Any] | None = None, remove: tuple[str, ...] = (),
        names: dict[str, str] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Set `values` on an existing item (always) if `condition` holds; the item as it now is."""
        if not _addressable(pk, sk):
            raise ConditionFailed
        request = update_request(self.name, Update(pk, sk, values, condition, condition_values, remove, names or {}))
        with translated():
            result = self._db.update_item(**request, ReturnValues="ALL_NEW")
        return from_item(result["Attributes"])

    def write_together(
        self, puts: Sequence[dict[str, Any]], deletes: Sequence[tuple[str, str]] = (), checks: Sequence[Check] = ()
    ) -> None:
        """Several puts and deletes that happen all or not at all (a TransactWriteItems), and only
        if every check holds (`ConditionFailed` otherwise). A check on an item that is also put
        becomes that put's condition: DynamoDB allows one operation per item in a transaction."""
        check_sizes(puts)
        guards = {check.key: check for check in checks}
        ops: list[dict[str, Any]] = []
        for item in puts:
            put: dict[str, Any] = {"TableName": self.name, "Item": to_item(item)}
            guard = guards.pop((item["pk"], item["sk"]), None)
            ops.append({"Put": put | (guard.request() if guard else {})})
        ops += [{"Delete": {"TableName": self.name, "Key": _key(pk, sk)}} for pk, sk in deletes]
        ops += [transact_item(self.name, check) for check in guards.values()]
        with translated():
            self._db.transact_write_items(TransactItems=ops)

    def transact(self, operations: Sequence[Operation]) -> None:
        """Puts, existence checks, conditional updates and deletes that happen all or not at all (at
        most 100, on distinct items); a failed condition anywhere is `ConditionFailed`."""
        if not all(_addressable(op.pk, op.sk) for op in operations if not isinstance(op, Put)):
            raise ConditionFailed
        check_sizes([op.item for op in operations if isinstance(op, Put)])
        with translated():
            self._db.transact_write_items(TransactItems=[transact_item(self.name, op) for op in operations])

    def put_many(self, items: Sequence[dict[str, Any]]) -> None:
        """Unconditional puts in batches of 25: not atomic, for writes whose order makes them safe."""
        check_sizes(items)
        self._batch_write([{"PutRequest": {"Item": to_item(item)}} for item in items])

    def delete_many(self, keys: Sequence[tuple[str, str]]) -> None:
        """Deletes in batches of 25 (absent items are no error); not atomic."""
        self._batch_write([{"DeleteRequest": {"Key": _key(pk, sk)}} for pk, sk in keys])

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        for start in range(0, len(requests), BATCH_WRITE):
            pending = requests[start : start + BATCH_WRITE]
            for attempt in range(BATCH_ATTEMPTS):
                with translated():
                    answer = self._db.batch_write_item(RequestItems={self.name: pending})
                pending = answer.get("UnprocessedItems", {}).get(self.name, [])
                if not pending:
                    break
                time.sleep(0.05 * 2**attempt)  # DynamoDB returns unprocessed items when throttled
            if pending:
                raise e.ServiceUnavailableError("Storage is busy; retry shortly.", retry_after=1)

    def query_page(self, pk: str, page: PageRequest, mapper: Callable[[dict[str, Any]], T]) -> Page[T]:
        """The page of collection `pk` that `page` asks for, mapped item by item: one Query, read on
        only where DynamoDB's 1 MB response cap cut it short of `limit + 1` items."""
        if not _addressable(pk, page.after or page.before or ""):
            return Page([], False)
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
