"""Runs wire models (openai-python `types/beta/threads/run*.py`, `thread_create_and_run_params`).

Request bounds are OpenAI's (`CreateRunRequest`, `CreateThreadAndRunRequest`,
`SubmitToolOutputsRunRequest`, `ModifyRunRequest`: run `tools` ≤ 20, `max_*_tokens` ≥ 256), plus
ours where OpenAI states none (`schemas.limits`). Tools and response formats are the assistants'
shapes, so a run hands them to the chat service exactly as an assistant's.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, Field, model_validator

from openai_cf.schemas import limits as lim
from openai_cf.schemas.assistants import (
    AssistantResponseFormatOptionParam,
    AssistantToolParam,
    FunctionTool,
    ReasoningEffort,
    ToolResourcesParam,
    tool_schemas,
)
from openai_cf.schemas.common import RequestModel
from openai_cf.schemas.json_schema import check_schemas
from openai_cf.schemas.messages import MessageCreateParams
from openai_cf.schemas.pagination import ListParams
from openai_cf.schemas.threads import ThreadCreateParams

RunStatus = Literal[
    "queued", "in_progress", "requires_action", "cancelling", "cancelled", "failed", "completed", "incomplete",
    "expired",
]  # fmt: skip
RunStepStatus = Literal["in_progress", "cancelled", "failed", "completed", "expired"]
ObjectId = Annotated[str, Field(min_length=1, max_length=lim.MAX_OBJECT_ID)]
TokenBudget = Annotated[int, Field(ge=lim.MIN_RUN_TOKEN_BUDGET, le=lim.INT64_MAX)]


# -- request -------------------------------------------------------------------------------------
class TruncationStrategyParam(RequestModel):
    type: Literal["auto", "last_messages"]
    last_messages: Annotated[int, Field(ge=1, le=lim.INT64_MAX)] | None = None


class NamedFunctionParam(RequestModel):
    name: Annotated[str, Field(min_length=1, max_length=lim.MAX_NAME)]


class AssistantsNamedToolChoiceParam(RequestModel):
    type: Literal["function", "code_interpreter", "file_search"]
    function: NamedFunctionParam | None = None


AssistantToolChoiceOptionParam = Literal["none", "auto", "required"] | AssistantsNamedToolChoiceParam


class _RunFields(RequestModel):
    """What a run takes whether its thread exists already or is created with it."""

    assistant_id: ObjectId
    model: lim.ModelName | None = None
    instructions: Annotated[str, Field(max_length=lim.MAX_INSTRUCTIONS)] | None = None
    tools: Annotated[list[AssistantToolParam], Field(max_length=lim.MAX_RUN_TOOLS)] | None = None
    metadata: lim.Metadata | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    stream: bool | None = None
    max_prompt_tokens: TokenBudget | None = None
    max_completion_tokens: TokenBudget | None = None
    truncation_strategy: TruncationStrategyParam | None = None
    tool_choice: AssistantToolChoiceOptionParam | None = None
    parallel_tool_calls: bool | None = None
    response_format: AssistantResponseFormatOptionParam | None = None

    @model_validator(mode="after")
    def _schemas_have_the_shape_of_schemas(self) -> Self:
        check_schemas(tool_schemas(self.tools or (), self.response_format))
        return self


class RunCreateParams(_RunFields):
    reasoning_effort: ReasoningEffort | None = None
    additional_instructions: Annotated[str, Field(max_length=lim.MAX_INSTRUCTIONS)] | None = None
    additional_messages: Annotated[list[MessageCreateParams], Field(max_length=lim.MAX_ADDITIONAL_MESSAGES)] | None = (
        None
    )


class ThreadCreateAndRunParams(_RunFields):
    thread: ThreadCreateParams | None = None
    tool_resources: ToolResourcesParam | None = None


class RunUpdateParams(RequestModel):
    metadata: lim.Metadata | None = None


class ToolOutputParam(RequestModel):
    tool_call_id: ObjectId | None = None
    output: Annotated[str, Field(max_length=lim.MAX_TOOL_OUTPUT)] | None = None


class RunSubmitToolOutputsParams(RequestModel):
    tool_outputs: Annotated[list[ToolOutputParam], Field(max_length=lim.MAX_TOOL_CALLS)]
    stream: bool | None = None


class RunListParams(ListParams):
    pass


StepInclude = Literal["step_details.tool_calls[*].file_search.results[*].content"]


class RunStepListParams(ListParams):
    # `?include[]=…` asks for file search results, which no step has (file_search is refused).
    include: StepInclude | None = Field(default=None, alias="include[]")


class RunStepRetrieveParams(RequestModel):
    include: StepInclude | None = Field(default=None, alias="include[]")


# -- response: runs ------------------------------------------------------------------------------
class LastError(BaseModel):
    code: Literal["server_error", "rate_limit_exceeded", "invalid_prompt"]
    message: str


class IncompleteDetails(BaseModel):
    reason: Literal["max_completion_tokens", "max_prompt_tokens"]


class FunctionCall(BaseModel):
    name: str
    arguments: str


class RequiredActionFunctionToolCall(BaseModel):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class RequiredActionSubmitToolOutputs(BaseModel):
    tool_calls: list[RequiredActionFunctionToolCall]


class RequiredAction(BaseModel):
    type: Literal["submit_tool_outputs"] = "submit_tool_outputs"
    submit_tool_outputs: RequiredActionSubmitToolOutputs


class TruncationStrategy(BaseModel):
    type: Literal["auto", "last_messages"] = "auto"
    last_messages: int | None = None


class RunUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class Run(BaseModel):
    id: str
    object: Literal["thread.run"] = "thread.run"
    created_at: int
    thread_id: str
    assistant_id: str
    status: RunStatus
    required_action: RequiredAction | None
    last_error: LastError | None
    expires_at: int | None
    started_at: int | None
    cancelled_at: int | None
    failed_at: int | None
    completed_at: int | None
    incomplete_details: IncompleteDetails | None
    model: str
    instructions: str
    tools: list[FunctionTool]
    metadata: dict[str, str]
    usage: RunUsage | None
    temperature: float | None
    top_p: float | None
    max_prompt_tokens: int | None
    max_completion_tokens: int | None
    truncation_strategy: TruncationStrategy
    # `"none" | "auto" | "required"` or `{"type": "function", "function": {"name"}}`.
    tool_choice: str | dict[str, Any]
    parallel_tool_calls: bool
    response_format: Literal["auto"] | dict[str, Any]


# -- response: run steps -------------------------------------------------------------------------
class MessageCreation(BaseModel):
    message_id: str


class MessageCreationStepDetails(BaseModel):
    type: Literal["message_creation"] = "message_creation"
    message_creation: MessageCreation


class FunctionToolCallFunction(BaseModel):
    name: str
    arguments: str
    output: str | None


class FunctionToolCall(BaseModel):
    id: str
    type: Literal["function"] = "function"
    function: FunctionToolCallFunction


class ToolCallsStepDetails(BaseModel):
    type: Literal["tool_calls"] = "tool_calls"
    tool_calls: list[FunctionToolCall]


class StepLastError(BaseModel):
    code: Literal["server_error", "rate_limit_exceeded"]
    message: str


class RunStep(BaseModel):
    id: str
    object: Literal["thread.run.step"] = "thread.run.step"
    created_at: int
    run_id: str
    assistant_id: str
    thread_id: str
    type: Literal["message_creation", "tool_calls"]
    status: RunStepStatus
    step_details: Annotated[MessageCreationStepDetails | ToolCallsStepDetails, Field(discriminator="type")]
    last_error: StepLastError | None
    expired_at: int | None
    cancelled_at: int | None
    failed_at: int | None
    completed_at: int | None
    metadata: dict[str, str]
    usage: RunUsage | None
