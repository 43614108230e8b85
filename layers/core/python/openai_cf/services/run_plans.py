"""A new run's record: the assistant's settings, with the request's overrides on top.

What the run will do is fixed here, at creation, and shown on the Run object: the model, the
instructions (the assistant's, or the request's, with `additional_instructions` appended), the
tools and their choice, the sampling settings, the token budgets and the truncation strategy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openai_cf.errors import InvalidRequestError
from openai_cf.schemas.runs import AssistantToolChoiceOptionParam, RunCreateParams, ThreadCreateAndRunParams
from openai_cf.services.assistant_tools import stored_response_format, stored_tools, unsupported
from openai_cf.storage.assistants import AssistantRecord
from openai_cf.storage.runs import RunRecord


@dataclass(frozen=True)
class RunStart:
    """Who starts the run, where, and when."""

    run_id: str
    thread_id: str
    owner: str
    now: float
    expires_seconds: int


def stored_tool_choice(
    choice: AssistantToolChoiceOptionParam | None, tools: list[dict[str, Any]]
) -> str | dict[str, Any]:
    """`auto` unless set; a named tool must be a function the run has."""
    if choice is None or isinstance(choice, str):
        return choice or "auto"
    if choice.type != "function":
        raise unsupported(f"The `{choice.type}` tool", "tool_choice.type")
    if choice.function is None:
        raise InvalidRequestError("Missing required parameter: 'tool_choice.function'.", param="tool_choice.function")
    names = {tool["function"]["name"] for tool in tools}
    if choice.function.name not in names:
        raise InvalidRequestError(
            f"Invalid value for 'tool_choice': the run has no function named '{choice.function.name}'.",
            param="tool_choice.function.name", code="invalid_value",
        )  # fmt: skip
    return {"type": "function", "function": {"name": choice.function.name}}


def _instructions(params: RunCreateParams | ThreadCreateAndRunParams, assistant: AssistantRecord) -> str:
    base = params.instructions if params.instructions is not None else assistant.instructions or ""
    extra = params.additional_instructions if isinstance(params, RunCreateParams) else None
    return "\n\n".join(part for part in (base, extra) if part)


def plan_run(
    params: RunCreateParams | ThreadCreateAndRunParams, assistant: AssistantRecord, start: RunStart
) -> RunRecord:
    tools = stored_tools(params.tools) if params.tools is not None else assistant.tools
    response_format = (
        stored_response_format(params.response_format)
        if params.response_format is not None
        else assistant.response_format
    )
    effort = params.reasoning_effort if isinstance(params, RunCreateParams) else None
    truncation = params.truncation_strategy
    return RunRecord(
        id=start.run_id, owner=start.owner, thread_id=start.thread_id, assistant_id=assistant.id,
        created_at=int(start.now), status="queued", model=params.model or assistant.model,
        instructions=_instructions(params, assistant), expires_at=int(start.now) + start.expires_seconds,
        tools=tools, metadata=params.metadata or {},
        temperature=params.temperature if params.temperature is not None else assistant.temperature,
        top_p=params.top_p if params.top_p is not None else assistant.top_p,
        reasoning_effort=effort or assistant.reasoning_effort,
        max_prompt_tokens=params.max_prompt_tokens, max_completion_tokens=params.max_completion_tokens,
        truncation_strategy=truncation.model_dump() if truncation else {"type": "auto", "last_messages": None},
        tool_choice=stored_tool_choice(params.tool_choice, tools),
        parallel_tool_calls=params.parallel_tool_calls if params.parallel_tool_calls is not None else True,
        response_format=response_format,
    )  # fmt: skip
