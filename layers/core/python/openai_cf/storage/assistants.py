"""Assistant records: the `assistant` collection, one item per assistant, listed by id.

Tools, tool resources, metadata and the response format are client-shaped JSON and are stored as
JSON text (`storage.documents`); the tools and response format keep exactly the shape a chat
request takes, so a run hands them to the chat service as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from openai_cf.schemas.assistants import Assistant, FunctionTool, ToolResources
from openai_cf.storage.documents import from_text, to_text
from openai_cf.storage.pages import Page, PageRequest
from openai_cf.storage.table import MAX_ITEM_BYTES, ConditionFailed, Table, item_bytes

ASSISTANTS = "assistant"
_DOCUMENTS = frozenset({"tools", "tool_resources", "metadata", "response_format"})


@dataclass(frozen=True)
class AssistantRecord:
    id: str
    owner: str
    created_at: int
    model: str
    name: str | None = None
    description: str | None = None
    instructions: str | None = None
    # Function tools as chat takes them: {"type": "function", "function": {"name", …}}.
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_resources: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    temperature: float | None = None
    top_p: float | None = None
    # "auto" or a chat `response_format` object.
    response_format: str | dict[str, Any] = "auto"
    # Not part of OpenAI's Assistant object, but a run uses it.
    reasoning_effort: str | None = None

    def to_wire(self) -> Assistant:
        return Assistant(
            id=self.id, created_at=self.created_at, name=self.name, description=self.description, model=self.model,
            instructions=self.instructions, tools=[FunctionTool.model_validate(tool) for tool in self.tools],
            tool_resources=ToolResources.model_validate(self.tool_resources), metadata=self.metadata,
            temperature=self.temperature, top_p=self.top_p,
            response_format="auto" if isinstance(self.response_format, str) else self.response_format,
        )  # fmt: skip


# What an update may change: everything but the identity.
MUTABLE = frozenset(f.name for f in fields(AssistantRecord)) - {"id", "owner", "created_at"}


def _attributes(values: dict[str, Any]) -> dict[str, Any]:
    return {name: to_text(value) if name in _DOCUMENTS else value for name, value in values.items()}


def _item(record: AssistantRecord) -> dict[str, Any]:
    return {"pk": ASSISTANTS, "sk": record.id, **_attributes({f.name: getattr(record, f.name) for f in fields(record)})}


def _record(item: dict[str, Any]) -> AssistantRecord:
    return AssistantRecord(
        id=item["id"], owner=item["owner"], created_at=item["created_at"], model=item["model"],
        name=item.get("name"), description=item.get("description"), instructions=item.get("instructions"),
        tools=from_text(item["tools"]), tool_resources=from_text(item["tool_resources"]),
        metadata=from_text(item["metadata"]), temperature=item.get("temperature"), top_p=item.get("top_p"),
        response_format=from_text(item["response_format"]), reasoning_effort=item.get("reasoning_effort"),
    )  # fmt: skip


class AssistantRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def add(self, record: AssistantRecord) -> None:
        self._table.put(_item(record), only_if_new=True)

    @staticmethod
    def fits(record: AssistantRecord) -> bool:
        """Whether the record can be stored (one item holds at most `MAX_ITEM_BYTES`)."""
        return item_bytes(_item(record)) <= MAX_ITEM_BYTES

    def get(self, assistant_id: str) -> AssistantRecord | None:
        item = self._table.get(ASSISTANTS, assistant_id)
        return _record(item) if item else None

    def update(self, assistant_id: str, changes: dict[str, Any]) -> AssistantRecord | None:
        """Set the given fields (names of `AssistantRecord`) and only those; None if the assistant
        does not exist (never recreates one deleted meanwhile)."""
        unknown = set(changes) - MUTABLE
        if unknown:
            raise ValueError(f"not changeable: {sorted(unknown)}")
        if not changes:
            return self.get(assistant_id)
        try:
            return _record(self._table.update(ASSISTANTS, assistant_id, _attributes(changes)))
        except ConditionFailed:
            return None

    def remove(self, assistant_id: str) -> bool:
        return self._table.delete(ASSISTANTS, assistant_id) is not None

    def page(self, page: PageRequest) -> Page[AssistantRecord]:
        return self._table.query_page(ASSISTANTS, page, _record)
