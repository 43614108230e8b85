"""What the Assistants API can honour today, decided once for assistants, threads and runs.

Function tools work (a run hands them to the chat service). `code_interpreter` and `file_search`
need a sandbox and vector stores that do not exist yet, so they are refused with a 400 naming the
tool rather than accepted and silently ignored; tool resources are accepted only empty, for the
same reason. The accepted values become the JSON a record stores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openai_cf.errors import InvalidRequestError
from openai_cf.schemas.assistants import (
    AssistantResponseFormatOptionParam,
    AssistantToolParam,
    FunctionToolParam,
    ToolResourcesParam,
)


def unsupported(what: str, param: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"{what} is not supported yet: only function tools are available.", param=param, code="unsupported_value"
    )


def stored_tools(tools: Sequence[AssistantToolParam], *, param: str = "tools") -> list[dict[str, Any]]:
    """Function tools as chat takes them; any other tool is a 400 naming it (`tools[0].type`)."""
    for index, tool in enumerate(tools):
        if not isinstance(tool, FunctionToolParam):
            raise unsupported(f"The `{tool.type}` tool", f"{param}[{index}].type")
    return [tool.model_dump(mode="json", exclude_none=True, by_alias=True) for tool in tools]


def stored_tool_resources(resources: ToolResourcesParam | None, *, param: str = "tool_resources") -> dict[str, Any]:
    """Tool resources without any file or vector store: the only ones that can be honoured."""
    stored: dict[str, Any] = {}
    if resources is None:
        return stored
    if resources.code_interpreter is not None:
        if resources.code_interpreter.file_ids:
            raise unsupported("`code_interpreter` (and its files)", f"{param}.code_interpreter.file_ids")
        stored["code_interpreter"] = {"file_ids": []}
    if resources.file_search is not None:
        if resources.file_search.vector_store_ids or resources.file_search.vector_stores:
            raise unsupported("`file_search` (and its vector stores)", f"{param}.file_search")
        stored["file_search"] = {"vector_store_ids": []}
    return stored


def stored_response_format(response_format: AssistantResponseFormatOptionParam | None) -> str | dict[str, Any]:
    if response_format is None or isinstance(response_format, str):
        return "auto"
    return response_format.model_dump(mode="json", exclude_none=True, by_alias=True)
