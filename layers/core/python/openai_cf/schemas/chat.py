"""Chat Completions wire models (openai-python `types/chat`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, Field, model_validator

from openai_cf.schemas import limits as lim
from openai_cf.schemas.common import CompletionUsage, FinishReason, RequestModel, StreamOptions, omitted
from openai_cf.schemas.json_schema import Path, check_schemas


# -- request ---------------------------------------------------------------------------------
class ChatCompletionContentPartText(RequestModel):
    type: Literal["text"]
    text: str


class ImageURL(RequestModel):
    url: str
    detail: Literal["auto", "low", "high"] | None = None


class ChatCompletionContentPartImage(RequestModel):
    type: Literal["image_url"]
    image_url: ImageURL


class ChatCompletionContentPartInputAudio(RequestModel):
    type: Literal["input_audio"]
    input_audio: dict[str, Any]


class ChatCompletionContentPartFile(RequestModel):
    type: Literal["file"]
    file: dict[str, Any]


ContentPart = Annotated[
    ChatCompletionContentPartText
    | ChatCompletionContentPartImage
    | ChatCompletionContentPartInputAudio
    | ChatCompletionContentPartFile,
    Field(discriminator="type"),
]


class Function(RequestModel):
    name: str
    arguments: str


class ChatCompletionMessageToolCallParam(RequestModel):
    id: str
    type: Literal["function"] = "function"
    function: Function


class ChatCompletionSystemMessageParam(RequestModel):
    role: Literal["system"]
    content: str | list[ChatCompletionContentPartText]
    name: str | None = None


class ChatCompletionDeveloperMessageParam(RequestModel):
    role: Literal["developer"]
    content: str | list[ChatCompletionContentPartText]
    name: str | None = None


class ChatCompletionUserMessageParam(RequestModel):
    role: Literal["user"]
    content: str | list[ContentPart]
    name: str | None = None


class ChatCompletionAssistantMessageParam(RequestModel):
    role: Literal["assistant"]
    content: str | list[ChatCompletionContentPartText] | None = None
    refusal: str | None = None
    name: str | None = None
    tool_calls: Annotated[list[ChatCompletionMessageToolCallParam], Field(max_length=lim.MAX_TOOL_CALLS)] | None = None
    function_call: Function | None = None
    audio: dict[str, Any] | None = None
    # Not OpenAI's, but what reasoning models' answers carry; sent back as history.
    reasoning_content: str | None = None


class ChatCompletionToolMessageParam(RequestModel):
    role: Literal["tool"]
    content: str | list[ChatCompletionContentPartText]
    tool_call_id: str


class ChatCompletionFunctionMessageParam(RequestModel):
    role: Literal["function"]
    content: str | None
    name: str


ChatCompletionMessageParam = Annotated[
    ChatCompletionSystemMessageParam
    | ChatCompletionDeveloperMessageParam
    | ChatCompletionUserMessageParam
    | ChatCompletionAssistantMessageParam
    | ChatCompletionToolMessageParam
    | ChatCompletionFunctionMessageParam,
    Field(discriminator="role"),
]


class FunctionDefinition(RequestModel):
    name: lim.Name
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ChatCompletionToolParam(RequestModel):
    type: Literal["function"]
    function: FunctionDefinition


class NamedFunction(RequestModel):
    name: str


class ChatCompletionNamedToolChoiceParam(RequestModel):
    type: Literal["function"]
    function: NamedFunction


ToolChoice = Literal["none", "auto", "required"] | ChatCompletionNamedToolChoiceParam


class JSONSchema(RequestModel):
    name: lim.Name
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class ResponseFormatText(RequestModel):
    type: Literal["text"]


class ResponseFormatJSONObject(RequestModel):
    type: Literal["json_object"]


class ResponseFormatJSONSchema(RequestModel):
    type: Literal["json_schema"]
    json_schema: JSONSchema


ResponseFormat = Annotated[
    ResponseFormatText | ResponseFormatJSONObject | ResponseFormatJSONSchema, Field(discriminator="type")
]


class ChatCompletionCreateParams(RequestModel):
    model: lim.ModelName
    messages: list[ChatCompletionMessageParam] = Field(min_length=1, max_length=lim.MAX_MESSAGES)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    logit_bias: lim.LogitBias | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=lim.MAX_TOP_LOGPROBS)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    n: int | None = Field(default=None, ge=1, le=lim.MAX_N)
    seed: lim.Seed | None = None
    stop: lim.Stop = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    tools: Annotated[list[ChatCompletionToolParam], Field(max_length=lim.MAX_TOOLS)] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    user: lim.Identifier | None = None
    safety_identifier: lim.SafetyIdentifier | None = None
    prompt_cache_key: lim.Identifier | None = None
    # Accepted and ignored: Workers AI's prefix cache has no retention setting.
    prompt_cache_retention: str | None = None
    prompt_cache_options: dict[str, Any] | None = None
    moderation: dict[str, Any] | None = None
    store: bool | None = None
    metadata: lim.Metadata | None = None
    service_tier: str | None = None
    verbosity: str | None = None
    modalities: list[str] | None = None
    audio: dict[str, Any] | None = None
    prediction: dict[str, Any] | None = None
    web_search_options: dict[str, Any] | None = None
    functions: Annotated[list[FunctionDefinition], Field(max_length=lim.MAX_TOOLS)] | None = None
    function_call: Any = None

    @model_validator(mode="after")
    def _schemas_have_the_shape_of_schemas(self) -> Self:
        # One walk over all of the request's schemas, so their size is bounded together.
        if self.tools or self.functions or isinstance(self.response_format, ResponseFormatJSONSchema):
            check_schemas(self._client_schemas())
        return self

    def _client_schemas(self) -> Iterator[tuple[Path, Any]]:
        for index, tool in enumerate(self.tools or ()):
            yield ("tools", index, "function", "parameters"), tool.function.parameters or {}
        for index, function in enumerate(self.functions or ()):
            yield ("functions", index, "parameters"), function.parameters or {}
        if isinstance(self.response_format, ResponseFormatJSONSchema):
            yield ("response_format", "json_schema", "schema"), self.response_format.json_schema.schema_ or {}


# -- response --------------------------------------------------------------------------------
class ChatCompletionMessageFunctionToolCall(BaseModel):
    id: str
    type: Literal["function"] = "function"
    function: Function


class ChatCompletionMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str | None
    refusal: str | None = None
    annotations: list[Any] = Field(default_factory=list)
    tool_calls: list[ChatCompletionMessageFunctionToolCall] | None = omitted()
    # Not OpenAI's: the thinking of reasoning models, as Workers AI and vLLM name it.
    reasoning_content: str | None = omitted()


class Choice(BaseModel):
    index: int
    message: ChatCompletionMessage
    logprobs: None = None
    finish_reason: FinishReason


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: CompletionUsage | None = None
    service_tier: str | None = "default"
    system_fingerprint: str | None = omitted()
