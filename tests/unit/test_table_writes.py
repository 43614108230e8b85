"""The table's transactions, batch writes and guards against moto: what the Assistants
repositories build on (all or nothing, checks on other items, sizes refused before writing)."""

from __future__ import annotations

import pytest

from openai_cf.ids import new_ids
from openai_cf.storage.pages import PageRequest
from openai_cf.storage.table import (
    MAX_ITEM_BYTES,
    Check,
    ConditionFailed,
    Delete,
    ItemTooLarge,
    Put,
    Table,
    Update,
    item_bytes,
)
from tests.unit.moto_table import raw_items, table

__all__ = ["table"]


def test_a_transaction_writes_everything_when_every_condition_holds(table: Table) -> None:
    # Given a parent item and an item to change and one to remove
    table.put({"pk": "parent", "sk": "parent"})
    table.put({"pk": "c", "sk": "1", "n": 1})
    table.put({"pk": "c", "sk": "2"})
    # When one transaction checks the parent, adds, updates and deletes
    table.transact(
        [Check("parent", "parent"), Put({"pk": "c", "sk": "3"}, only_if_new=True),
         Update("c", "1", {"n": 2}), Delete("c", "2")]
    )  # fmt: skip
    # Then all of it happened
    assert table.get("c", "3") is not None
    assert table.get("c", "1") == {"pk": "c", "sk": "1", "n": 2}
    assert table.get("c", "2") is None


@pytest.mark.parametrize(
    "failing",
    [Check("missing", "missing"), Put({"pk": "c", "sk": "1"}, only_if_new=True), Update("c", "missing", {"n": 1})],
)
def test_a_transaction_with_a_failed_condition_writes_nothing(table: Table, failing: object) -> None:
    # Given an existing item
    table.put({"pk": "c", "sk": "1", "n": 1})
    # When a transaction holds one failing condition
    with pytest.raises(ConditionFailed):
        table.transact([Put({"pk": "c", "sk": "new"}), failing])  # type: ignore[list-item]
    # Then none of its writes happened
    assert table.get("c", "new") is None
    assert table.get("c", "1") == {"pk": "c", "sk": "1", "n": 1}


def test_conditional_update_inside_a_transaction(table: Table) -> None:
    table.put({"pk": "r", "sk": "1", "status": "queued"})
    with pytest.raises(ConditionFailed):
        table.transact([Update("r", "1", {"status": "done"}, condition="#a0 = :s", condition_values={":s": "x"})])
    table.transact([Update("r", "1", {"status": "done"}, condition="#a0 = :s", condition_values={":s": "queued"})])
    assert table.get("r", "1") == {"pk": "r", "sk": "1", "status": "done"}


def test_an_update_removes_attributes_under_its_own_names(table: Table) -> None:
    # Given an item with a marker and a status (a reserved word)
    table.put({"pk": "t", "sk": "1", "marker": "run_1", "status": "busy"})
    # When an update removes the marker only while it names another run
    with pytest.raises(ConditionFailed):
        table.transact([Update("t", "1", {}, condition="marker = :m", condition_values={":m": "run_2"},
                               remove=("marker",))])  # fmt: skip
    # Then nothing changed; and when it names this one, the marker goes and the status is set
    table.transact([Update("t", "1", {"status": "idle"}, condition="marker = :m AND #s = :busy",
                           condition_values={":m": "run_1", ":busy": "busy"}, remove=("marker",),
                           names={"#s": "status"})])  # fmt: skip
    assert table.get("t", "1") == {"pk": "t", "sk": "1", "status": "idle"}
    # And a plain update can remove without any value at all
    table.update("t", "1", {}, remove=("status",))
    assert table.get("t", "1") == {"pk": "t", "sk": "1"}


def test_batch_writes_cover_more_than_one_batch(table: Table) -> None:
    # Given 60 items written in batches of 25
    table.put_many([{"pk": "many", "sk": f"{i:03d}"} for i in range(60)])
    assert len(table.query_page("many", PageRequest(limit=100), lambda item: item).items) == 60
    # When all of them (and one that does not exist) are deleted
    table.delete_many([("many", f"{i:03d}") for i in range(61)])
    # Then none is left
    assert table.query_page("many", PageRequest(limit=100), lambda item: item).items == []


def test_an_item_too_large_is_refused_before_anything_is_written(table: Table) -> None:
    small = {"pk": "s", "sk": "1"}
    large = {"pk": "s", "sk": "2", "text": "é" * (MAX_ITEM_BYTES // 2)}
    assert item_bytes(large) > MAX_ITEM_BYTES
    for write in (
        lambda: table.put(large),
        lambda: table.put_many([small, large]),
        lambda: table.transact([Put(small), Put(large)]),
        lambda: table.write_together([small, large]),
    ):
        with pytest.raises(ItemTooLarge):
            write()
    assert raw_items(table) == []


def test_ids_too_long_for_a_key_name_nothing(table: Table) -> None:
    # Ids come from URLs: DynamoDB refuses sort keys over 1,024 bytes, which must read as "absent"
    long_id = "x" * 2000
    assert table.get("p", long_id) is None
    assert table.delete("p", long_id) is None
    with pytest.raises(ConditionFailed):
        table.update("p", long_id, {"a": 1})
    with pytest.raises(ConditionFailed):
        table.transact([Check("p", long_id)])
    assert table.query_page("p", PageRequest(after=long_id), lambda item: item).items == []


def test_ids_made_together_sort_in_order() -> None:
    ids = new_ids("msg_", 50, now_ms=1_700_000_000_000)
    assert ids == sorted(ids)
    assert len(set(ids)) == 50
    assert all(len(i) == len("msg_") + 24 for i in ids)


def test_numbers_below_dynamodbs_range_are_stored_as_zero(table: Table) -> None:
    # DynamoDB refuses magnitudes below 1e-130; a valid `temperature` can be one
    table.put({"pk": "n", "sk": "1", "tiny": 1.1e-308, "negative": -1e-200, "fine": 1e-100})
    assert table.get("n", "1") == {"pk": "n", "sk": "1", "tiny": 0.0, "negative": 0.0, "fine": 1e-100}
