"""Assistants wire models (openai-python `types/beta/assistant*.py`), and the tool and tool-resource
shapes that threads and runs share with assistants.

Request tools reuse the chat function definition and response formats, so whatever a chat
request accepts an assistant accepts too, and a run can hand them to the chat service as they are.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, Field, model_validator

from openai_cf.schemas import chat as c
from openai_cf.schemas import limits as lim
from openai_cf.schemas.common import RequestModel, omitted
from openai_cf.schemas.json_schema import Path, check_schemas
from openai_cf.schemas.pagination import ListParams

ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]


# -- request: tools ------------------------------------------------------------------------------
class CodeInterpreterToolParam(RequestModel):
    type: Literal["code_interpreter"]


class FileSearchToolParam(RequestModel):
    type: Literal["file_search"]
    file_search: dict[str, Any] | None = None


class FunctionToolParam(RequestModel):
    type: Literal["function"]
    function: c.FunctionDefinition


AssistantToolParam = Annotated[
    CodeInterpreterToolParam | FileSearchToolParam | FunctionToolParam, Field(discriminator="type")
]
AssistantResponseFormatOptionParam = Literal["auto"] | c.ResponseFormat


# -- request: tool resources (one shape for assistants and threads, create and modify) ----------
class ToolResourcesCodeInterpreterParam(RequestModel):
    file_ids: Annotated[list[str], Field(max_length=lim.MAX_CODE_INTERPRETER_FILES)] = Field(default_factory=list)


class ToolResourcesFileSearchParam(RequestModel):
    vector_store_ids: Annotated[list[str], Field(max_length=lim.MAX_VECTOR_STORES)] = Field(default_factory=list)
    # The helper that creates a vector store on the fly (create requests only, at OpenAI).
    vector_stores: Annotated[list[dict[str, Any]], Field(max_length=lim.MAX_VECTOR_STORES)] = Field(
        default_factory=list
    )


class ToolResourcesParam(RequestModel):
    code_interpreter: ToolResourcesCodeInterpreterParam | None = None
    file_search: ToolResourcesFileSearchParam | None = None


def tool_schemas(
    tools: Sequence[AssistantToolParam], response_format: AssistantResponseFormatOptionParam | None
) -> Iterator[tuple[Path, Any]]:
    """The client's JSON Schemas in a request, with their paths (checked together, as in chat)."""
    for index, tool in enumerate(tools):
        if isinstance(tool, FunctionToolParam):
            yield ("tools", index, "function", "parameters"), tool.function.parameters or {}
    if isinstance(response_format, c.ResponseFormatJSONSchema):
        yield ("response_format", "json_schema", "schema"), response_format.json_schema.schema_ or {}


# -- request: assistants -------------------------------------------------------------------------
class _AssistantFields(RequestModel):
    name: Annotated[str, Field(max_length=lim.MAX_ASSISTANT_NAME)] | None = None
    description: Annotated[str, Field(max_length=lim.MAX_ASSISTANT_DESCRIPTION)] | None = None
    instructions: Annotated[str, Field(max_length=lim.MAX_INSTRUCTIONS)] | None = None
    reasoning_effort: ReasoningEffort | None = None
    tools: Annotated[list[AssistantToolParam], Field(max_length=lim.MAX_TOOLS)] = Field(default_factory=list)
    tool_resources: ToolResourcesParam | None = None
    metadata: lim.Metadata | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    response_format: AssistantResponseFormatOptionParam | None = None

    @model_validator(mode="after")
    def _schemas_have_the_shape_of_schemas(self) -> Self:
        check_schemas(tool_schemas(self.tools, self.response_format))
        return self


class AssistantCreateParams(_AssistantFields):
    model: lim.ModelName


class AssistantUpdateParams(_AssistantFields):
    """Every field optional: only the fields a request sends change (`model_fields_set`)."""

    model: lim.ModelName | None = None


class AssistantListParams(ListParams):
    pass


# -- response ------------------------------------------------------------------------------------
class FunctionDefinition(BaseModel):
    name: str
    description: str | None = omitted()
    parameters: dict[str, Any] | None = omitted()
    strict: bool | None = omitted()


class FunctionTool(BaseModel):
    type: Literal["function"] = "function"
    function: FunctionDefinition


class ToolResourcesCodeInterpreter(BaseModel):
    file_ids: list[str] = Field(default_factory=list)


class ToolResourcesFileSearch(BaseModel):
    vector_store_ids: list[str] = Field(default_factory=list)


class ToolResources(BaseModel):
    code_interpreter: ToolResourcesCodeInterpreter | None = omitted()
    file_search: ToolResourcesFileSearch | None = omitted()


class Assistant(BaseModel):
    id: str
    object: Literal["assistant"] = "assistant"
    created_at: int
    name: str | None
    description: str | None
    model: str
    instructions: str | None
    # Only function tools are ever stored (the others are refused), so only they are described.
    tools: list[FunctionTool]
    tool_resources: ToolResources | None
    metadata: dict[str, str]
    temperature: float | None
    top_p: float | None
    # `"auto"`, or the response format as the client sent it (the shape chat requests take).
    response_format: Literal["auto"] | dict[str, Any]


class AssistantDeleted(BaseModel):
    id: str
    object: Literal["assistant.deleted"] = "assistant.deleted"
    deleted: bool = True
