"""Make moto's DynamoDB transactions cost what DynamoDB's do: the items they touch, not the table.

moto 5.2.5 backs up a transaction by `copy.deepcopy` of every table it names, once per operation,
so that it can roll back. Our writes are transactions (a message and its thread's counter, a run
and its step ...), so under a long-running `serve` every write grew with everything ever stored:
run latency went from ~40 ms to ~150 ms per create over 120 runs, and on. This patch keeps moto's
transaction logic and replaces the table copy with a copy of the touched items alone, restored
the same way when the transaction is cancelled. Local only; AWS is untouched by it.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

_applied = threading.Lock()
_done = False


class _TablesByReference:
    """Stands in for the `copy` module inside moto's DynamoDB backend: tables are not copied."""

    def __init__(self, table_type: type) -> None:
        self._table_type = table_type

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, self._table_type):
            return value  # the rollback below restores items; moto's "restore" of this is a no-op
        return copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _touched_items(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    """(table, hash key, range key, a copy of the item or None) for each item the transaction names."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    saved = []
    for entry in transact_items:
        for op_type, op in entry.items():
            table = backend.tables.get(op.get("TableName", ""))
            if table is None:
                continue
            attrs = op.get("Item") if op_type == "Put" else op.get("Key")
            if not isinstance(attrs, dict) or table.hash_key_attr not in attrs:
                continue
            hash_key = DynamoType(attrs[table.hash_key_attr])
            range_key = None
            if table.range_key_attr is not None:
                if table.range_key_attr not in attrs:
                    continue
                range_key = DynamoType(attrs[table.range_key_attr])
            saved.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
    return saved


def _restore(saved: list[tuple[Any, Any, Any, Any]]) -> None:
    # Newest first, so that an item named twice ends as it was before the first.
    for table, hash_key, range_key, item in reversed(saved):
        if item is None:
            table.delete_item(hash_key, range_key)
        elif range_key is not None:
            table.items[hash_key][range_key] = item
        else:
            table.items[hash_key] = item


def apply() -> None:
    """Patch moto's DynamoDB backend once per process (idempotent)."""
    global _done
    with _applied:
        if _done:
            return
        from moto.dynamodb import models
        from moto.dynamodb.models.table import Table

        original = models.DynamoDBBackend.transact_write_items
        models.copy = _TablesByReference(Table)  # type: ignore[assignment,attr-defined]

        def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
            saved = _touched_items(self, transact_items)
            try:
                original(self, transact_items)
            except Exception:
                _restore(saved)
                raise

        models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
        _done = True
