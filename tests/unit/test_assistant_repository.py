"""AssistantRepository against moto: the record ↔ item ↔ wire mapping, pages, partial updates."""

from __future__ import annotations

from dataclasses import replace

import pytest

from openai_cf.ids import new_id
from openai_cf.storage.assistants import ASSISTANTS, AssistantRecord, AssistantRepository
from openai_cf.storage.pages import PageRequest
from openai_cf.storage.table import Table
from tests.contract.validate import assert_matches
from tests.unit.moto_table import raw_items, table

__all__ = ["table"]

# A schema DynamoDB's own types could not hold: 40 levels of maps (it allows 32) and a huge number.
DEEP: dict[str, object] = {"type": "number", "maximum": 1e300}
for _ in range(40):
    DEEP = {"type": "object", "properties": {"x": DEEP}}

FULL = AssistantRecord(
    id="asst_000000000001aaaaaaaaaaaa", owner="key_1", created_at=1_700_000_000, model="gpt-4o-mini",
    name="Math tutor", description="d", instructions="Be brief.",
    tools=[{"type": "function", "function": {"name": "deep", "parameters": DEEP, "strict": False}}],
    tool_resources={"code_interpreter": {"file_ids": []}}, metadata={"k": "v", "": "empty key"},
    temperature=0.5, top_p=0.9,
    response_format={"type": "json_schema", "json_schema": {"name": "r", "schema": {"type": "object"}}},
    reasoning_effort="low",
)  # fmt: skip


def records(n: int) -> list[AssistantRecord]:
    return [replace(FULL, id=new_id("asst_", now_ms=1_700_000_000_000 + i)) for i in range(n)]


def test_a_record_round_trips_and_maps_to_openais_shape(table: Table) -> None:
    # Given every field set, including JSON DynamoDB maps could not hold
    repo = AssistantRepository(table)
    repo.add(FULL)
    # Then it reads back equal, stored in the `assistant` collection under its id, with its owner
    assert repo.get(FULL.id) == FULL
    (item,) = raw_items(table)
    assert (item["pk"], item["sk"], item["owner"]) == (ASSISTANTS, FULL.id, "key_1")
    wire = FULL.to_wire().model_dump(mode="json")
    assert_matches("AssistantObject", wire)
    assert wire["tools"][0]["function"]["parameters"] == DEEP
    assert wire["response_format"]["json_schema"]["name"] == "r"
    assert "reasoning_effort" not in wire


def test_defaults_map_to_openais_empty_values() -> None:
    wire = AssistantRecord(id="asst_x", owner="o", created_at=1, model="m").to_wire().model_dump(mode="json")
    assert_matches("AssistantObject", wire)
    assert (wire["tools"], wire["metadata"], wire["tool_resources"], wire["response_format"]) == ([], {}, {}, "auto")
    assert (wire["name"], wire["temperature"]) == (None, None)


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_pages_walk_every_assistant_once_in_order(table: Table, order: str) -> None:
    repo = AssistantRepository(table)
    stored = records(5)
    for record in stored:
        repo.add(record)
    expected = [r.id for r in (stored if order == "asc" else stored[::-1])]
    seen: list[str] = []
    after = None
    while True:
        page = repo.page(PageRequest(limit=2, order=order, after=after))  # type: ignore[arg-type]
        seen += [r.id for r in page.items]
        if not page.has_more:
            break
        after = page.items[-1].id
    assert seen == expected


def test_an_update_sets_only_the_fields_it_names(table: Table) -> None:
    repo = AssistantRepository(table)
    repo.add(FULL)
    updated = repo.update(FULL.id, {"name": None, "metadata": {"a": "b"}, "tools": []})
    assert updated == replace(FULL, name=None, metadata={"a": "b"}, tools=[])
    assert repo.get(FULL.id) == updated


def test_an_update_never_recreates_a_deleted_assistant(table: Table) -> None:
    repo = AssistantRepository(table)
    repo.add(FULL)
    assert repo.remove(FULL.id) is True
    assert repo.update(FULL.id, {"name": "again"}) is None
    assert repo.get(FULL.id) is None
    assert repo.remove(FULL.id) is False
    assert raw_items(table) == []


def test_identity_fields_cannot_be_updated(table: Table) -> None:
    with pytest.raises(ValueError, match="owner"):
        AssistantRepository(table).update(FULL.id, {"owner": "someone else"})


def test_fits_tells_what_one_item_can_hold() -> None:
    assert AssistantRepository.fits(FULL)
    assert not AssistantRepository.fits(replace(FULL, instructions="€" * 200_000))
